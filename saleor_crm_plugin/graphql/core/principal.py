"""Who is asking: the result of authenticating a request, handed to every resolver."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ...tenants.models import Tenant


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "customer"
    STAFF = "staff"
    APP = "app"


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    tenant: Tenant | None = None
    user_id: str | None = None
    email: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)

    def has(self, permission: str) -> bool:
        return (
            self.kind in (PrincipalKind.STAFF, PrincipalKind.APP) and permission in self.permissions
        )


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)

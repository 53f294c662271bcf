"""Per-request state for resolvers: who asks, and the request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...tenants.models import Tenant
from ...tenants.services import tenant_for_api_url
from .errors import CRMGraphQLError
from .principal import Principal


@dataclass
class CRMContext:
    principal: Principal
    client_ip: str = ""
    time_zone: str = ""  # the staff member's IANA zone from the Crm-Time-Zone header, if sent
    loaders: dict[str, Any] = field(default_factory=dict)

    def loader(self, cls: type) -> Any:
        """One loader instance per class and request, so batching spans the whole query."""
        key = cls.context_key  # type: ignore[attr-defined]
        if key not in self.loaders:
            self.loaders[key] = cls()
        return self.loaders[key]


def crm_context(info: Any) -> CRMContext:
    return info.context  # type: ignore[no-any-return]


def storefront_tenant(info: Any, api_url: str | None) -> Tenant:
    """The store a storefront call is for: the signed-in customer's, else the one named by
    ``saleorApiUrl``, else the only one installed."""
    principal = crm_context(info).principal
    if principal.tenant is not None:
        return principal.tenant
    if api_url:
        tenant = tenant_for_api_url(api_url)
    else:
        candidates = list(Tenant.objects.filter(is_active=True)[:2])
        tenant = candidates[0] if len(candidates) == 1 else None
    if tenant is None:
        raise CRMGraphQLError("Give saleorApiUrl: which store is this?", field="saleorApiUrl")
    return tenant

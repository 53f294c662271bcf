"""Permission checks with Saleor's permission names, used by every resolver."""

from __future__ import annotations

from typing import Any

from ...tenants.models import Tenant
from .context import crm_context
from .errors import PermissionDenied
from .principal import PrincipalKind

MANAGE_USERS = "MANAGE_USERS"
MANAGE_SETTINGS = "MANAGE_SETTINGS"


def require_permission(info: Any, permission: str) -> Tenant:
    """The tenant of a staff member or app holding ``permission``; otherwise PermissionDenied."""
    principal = crm_context(info).principal
    if principal.tenant is None or not principal.has(permission):
        raise PermissionDenied(f"You need the {permission} permission to do this.")
    return principal.tenant


def require_customer(info: Any) -> tuple[Tenant, str]:
    """The tenant and user id of the signed-in customer (or staff member acting as one)."""
    principal = crm_context(info).principal
    if principal.kind not in (PrincipalKind.CUSTOMER, PrincipalKind.STAFF) or not (
        principal.tenant and principal.user_id
    ):
        raise PermissionDenied("Sign in to see your own profile.")
    return principal.tenant, principal.user_id

"""Per-request state for resolvers: who asks, and the request's dataloaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...tenants.models import Tenant
from ...tenants.services import recent_tenant_for_api_url
from .errors import CRMGraphQLError
from .principal import Principal


@dataclass
class CRMContext:
    principal: Principal
    client_ip: str = ""
    time_zone: str = ""  # the staff member's IANA zone from the Crm-Time-Zone header, if sent
    loaders: dict[str, Any] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)

    def loader(self, cls: type) -> Any:
        """One loader instance per class and request, so batching spans the whole query."""
        key = cls.context_key  # type: ignore[attr-defined]
        if key not in self.loaders:
            self.loaders[key] = cls()
        return self.loaders[key]

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for in this request, then its value:
        for what every row of a page shares (a store's rules), or what a resolver above
        already read."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


def crm_context(info: Any) -> CRMContext:
    return info.context  # type: ignore[no-any-return]


def storefront_tenant(info: Any, api_url: str | None) -> Tenant:
    """The store a storefront call is for: the signed-in customer's, else the one named by
    ``saleorApiUrl``, else the only one installed."""
    principal = crm_context(info).principal
    if principal.tenant is not None:
        return principal.tenant
    if api_url:
        tenant = recent_tenant_for_api_url(api_url)
    else:
        candidates = list(Tenant.objects.filter(is_active=True)[:2])
        tenant = candidates[0] if len(candidates) == 1 else None
    if tenant is None:
        raise CRMGraphQLError("Give saleorApiUrl: which store is this?", field="saleorApiUrl")
    return tenant

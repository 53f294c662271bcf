"""A customer's tier, written into their **private** metadata in Saleor for staff tooling.

Private metadata, never public: customers can write their own public metadata, so anything
there could be forged. Written after the tier change is committed, from a task that retries:
Saleor being away never undoes or delays a tier change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backfill.client import SaleorAPIError, SaleorGraphQL
from ..tenants.models import Tenant
from ..tenants.services import PLUGIN_TENANT_URL, app_token

TIER_KEY = "crm.tier"
UPDATE = """
mutation CRMTierMetadata($id: ID!, $input: [MetadataInput!]!) {
  updatePrivateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""


class MetadataError(Exception):
    """Saleor did not store the metadata; the task tries again later."""


def write_tiers(tenant: Tenant, changes: Sequence[tuple[str, str]]) -> int:
    """Write (Saleor user id, tier name) pairs; an empty name clears the key. Returns how many."""
    if not changes:
        return 0
    if tenant.saleor_api_url == PLUGIN_TENANT_URL:
        return _write_with_orm(changes)
    token = app_token(tenant)
    if not token:
        raise MetadataError(f"no usable app token for {tenant.saleor_api_url}")
    with SaleorGraphQL(tenant.saleor_api_url, token, attempts=3) as client:
        for user_id, tier in changes:
            try:
                data = client.execute(
                    UPDATE, {"id": user_id, "input": [{"key": TIER_KEY, "value": tier}]}
                )
            except SaleorAPIError as exc:
                raise MetadataError(str(exc)) from exc
            errors = (data.get("updatePrivateMetadata") or {}).get("errors") or []
            if errors:
                raise MetadataError("; ".join(str(e.get("message")) for e in errors))
    return len(changes)


def _write_with_orm(changes: Sequence[tuple[str, str]]) -> int:
    import graphene
    from saleor.account.models import User

    written = 0
    for user_id, tier in changes:
        _kind, pk = graphene.Node.from_global_id(user_id)
        user: Any = User.objects.filter(pk=pk).first()
        if user is None:
            continue
        user.store_value_in_private_metadata({TIER_KEY: tier})
        user.save(update_fields=["private_metadata", "updated_at"])
        written += 1
    return written

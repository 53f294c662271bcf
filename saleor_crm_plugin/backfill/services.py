"""Backfill: page through Saleor's customers and orders and store each node in the inbox.

Each node is wrapped exactly like the webhook Saleor would send for it (``customer_updated``,
``order_updated``) with ``issuedAt`` set to the node's own ``updatedAt``: a live webhook showing
a newer state always wins, an older backfilled snapshot never overwrites it, and running the
backfill again produces the same bytes, which the inbox dedupe absorbs. Each page's inbox rows
and the cursor after it are written in one transaction, so an interrupted run resumes exactly
after the last stored page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import saleor_documents
from ..inbox.services import DrainResult, accept_many, drain
from ..tenants.models import Tenant
from ..tenants.services import app_token
from .client import SaleorGraphQL
from .models import BackfillCursor

# resource -> (root field, webhook event, typename, payload key)
RESOURCES = {
    "customers": ("customers", "customer_updated", "CustomerUpdated", "user"),
    "orders": ("orders", "order_updated", "OrderUpdated", "order"),
}


@dataclass
class ResourceSummary:
    fetched: int = 0
    new: int = 0
    total: int | None = None


@dataclass
class BackfillSummary:
    resources: dict[str, ResourceSummary] = field(default_factory=dict)
    applied: DrainResult = field(default_factory=DrainResult)


def _number(value: Any) -> float:
    if isinstance(value, Decimal):
        return float(value)  # as Saleor writes amounts in webhooks: the decimal text survives
    raise TypeError(type(value).__name__)


def wrap(resource: str, node: dict[str, Any]) -> tuple[str, bytes]:
    """(event, body) of the webhook Saleor would have sent for this node's current state."""
    _root, event, typename, key = RESOURCES[resource]
    issued = node.get("updatedAt") or node.get("dateJoined") or node.get("created")
    payload = {
        "__typename": typename,
        "issuedAt": issued,
        "version": "backfill",
        "issuingPrincipal": None,
        key: node,
    }
    return event, json.dumps(payload, default=_number, separators=(",", ":")).encode()


def backfill(
    tenant: Tenant,
    *,
    page_size: int = 100,
    restart: bool = False,
    client: SaleorGraphQL | None = None,
    on_page: Callable[[str, int, int | None], None] | None = None,
) -> BackfillSummary:
    """Import customers, then orders; resumable, idempotent, safe beside live webhooks."""
    client = client or SaleorGraphQL(tenant.saleor_api_url, app_token(tenant))
    if restart:
        BackfillCursor.objects.filter(tenant=tenant).delete()
    summary = BackfillSummary()
    for resource, (root, *_rest) in RESOURCES.items():
        cursor, _ = BackfillCursor.objects.get_or_create(tenant=tenant, resource=resource)
        counts = summary.resources.setdefault(resource, ResourceSummary())
        while not cursor.done:
            data = client.execute(
                saleor_documents.backfill(resource),
                {"first": page_size, "after": cursor.after or None},
            )
            page = data.get(root) or {}
            nodes = [edge["node"] for edge in page.get("edges") or []]
            info = page.get("pageInfo") or {}
            counts.total = page.get("totalCount")
            with transaction.atomic():
                counts.new += accept_many(
                    tenant, [wrap(resource, n) for n in nodes], source="backfill"
                )
                cursor.fetched += len(nodes)
                cursor.after = info.get("endCursor") or cursor.after
                cursor.done = not info.get("hasNextPage")
                cursor.finished_at = timezone.now() if cursor.done else None
                cursor.save()
            counts.fetched += len(nodes)
            applied = drain(tenant_id=tenant.pk)
            summary.applied.processed += applied.processed
            summary.applied.ignored += applied.ignored
            summary.applied.failed += applied.failed
            if on_page:
                on_page(resource, counts.fetched, counts.total)
    return summary

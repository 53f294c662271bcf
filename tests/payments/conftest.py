from __future__ import annotations

import json
import time
from typing import Any

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.models import PointsEntry
from tests import recordings
from tests.loyalty.test_tiers import saleor, store  # noqa: F401  (fixtures, Saleor on loopback)
from tests.stripe_api import event

T0 = int(time.time()) - 3600  # Stripe's event clock, an hour ago


def replay(tenant, first: int = 1, last: int = 89) -> None:
    """Recorded Saleor deliveries ``first``..``last`` (before anyone is deleted)."""
    for item in recordings.deliveries():
        if first <= item.seq <= last:
            accept(tenant, event=item.event, body=item.body, headers={})
    drain()


def stripe(tenant, kind: str, obj: dict[str, Any], *, id: str = "", created: int = T0) -> bool:
    """Deliver one Stripe event through the inbox, as the door stores it; True if it was new."""
    body = event(kind, obj, id=id or None, created=created)
    accepted = accept(
        tenant,
        event=f"stripe.{kind}",
        body=body,
        headers={},
        source="stripe",
        dedupe_key=f"stripe:{json.loads(body)['id']}",
    )
    drain()
    return not accepted.duplicate


def ledger(email: str) -> list[tuple[str, int]]:
    rows = PointsEntry.objects.filter(profile__email=email, source="order").order_by("id")
    return list(rows.values_list("kind", "points"))


def earned(email: str, order_number_psp: str) -> int:
    from saleor_crm_plugin.models import OrderRecord

    order = OrderRecord.objects.get(email=email, psp_references__contains=[order_number_psp])
    return PointsEntry.objects.get(source="order", source_id=order.order_id, kind="earn").points

"""The post-purchase e-mail: thanks for the order, its items and total, and five one-click
rating links. Queued by a periodic scan, once per order.

When: ``CRM_POST_PURCHASE_DAYS`` after the order was fulfilled (the ``crm.order.fulfilled``
timeline entry, or the order's own ``updatedAt`` if that is earlier: a backfill learns of old
fulfilments today, and must not ask about them). Stores that never mark orders fulfilled in
Saleor can set ``CRM_POST_PURCHASE_UNFULFILLED_DAYS`` to count from payment instead. Orders
cancelled, returned or fully refunded since get nothing, nor do orders already rated.

Only orders that became due within the last ``GRACE`` are picked up: the scan is not a way to
e-mail everyone who ever bought (a first install, a long outage of the worker).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ..conf import crm_settings
from ..messaging import services as outbox
from ..messaging.models import Purpose
from ..profiles.models import Profile
from ..tenants.models import Tenant
from .tokens import make_feedback_token

KIND = "post_purchase"
GRACE = timedelta(days=3)

# ``since`` is at most the order's ``updatedAt``, so only orders changed within the wait plus
# the grace can be due: a range scan of crm_order_updated, not the store's whole order history.
DUE_SQL = """
WITH done AS (
  SELECT o.id, least(f.occurred_at, o.updated_at) AS since, %(after_fulfilled)s AS wait
  FROM crm_order o
  JOIN crm_timeline f ON f.tenant_id = o.tenant_id
                     AND f.dedupe_key = 'order.fulfilled:' || o.order_id
  WHERE o.tenant_id = %(tenant)s AND %(after_fulfilled)s > 0
    AND o.updated_at > %(now)s - make_interval(secs => %(after_fulfilled)s * 86400 + %(grace)s)
  UNION ALL
  SELECT o.id, least(p.occurred_at, o.updated_at), %(after_paid)s
  FROM crm_order o
  JOIN crm_timeline p ON p.tenant_id = o.tenant_id
                     AND p.dedupe_key = 'order.paid:' || o.order_id
  WHERE o.tenant_id = %(tenant)s AND %(after_paid)s > 0
    AND o.updated_at > %(now)s - make_interval(secs => %(after_paid)s * 86400 + %(grace)s)
    AND NOT EXISTS (SELECT 1 FROM crm_timeline f WHERE f.tenant_id = o.tenant_id
                    AND f.dedupe_key = 'order.fulfilled:' || o.order_id)
)
SELECT o.profile_id, o.order_id, o.number, o.channel, o.currency, o.total_gross_minor, o.lines
FROM done d
JOIN crm_order o ON o.id = d.id
WHERE o.profile_id IS NOT NULL
  AND o.status NOT IN ('DRAFT', 'CANCELED', 'EXPIRED', 'RETURNED')
  AND o.refunded_minor < o.total_gross_minor
  AND d.since + make_interval(secs => d.wait * 86400) <= %(now)s
  AND d.since + make_interval(secs => d.wait * 86400) > %(now)s - make_interval(secs => %(grace)s)
  AND NOT EXISTS (SELECT 1 FROM crm_message m WHERE m.tenant_id = o.tenant_id
                  AND m.dedupe_key = 'post-purchase:' || o.order_id)
  AND NOT EXISTS (SELECT 1 FROM crm_feedback r WHERE r.tenant_id = o.tenant_id
                  AND r.order_id = o.order_id)
ORDER BY o.id
"""


def feedback_url(tenant_id: int, order_id: str) -> str:
    """The rating page of one order (add ``?rating=N`` to pre-select a rating)."""
    token = make_feedback_token(tenant_id, order_id)
    try:
        path = reverse("saleor_crm_webhooks:feedback", args=[token])
    except NoReverseMatch:
        path = f"/feedback/{token}"
    return f"{crm_settings.PUBLIC_URL}{path}"


def _lines(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):  # Django leaves jsonb from a raw cursor as text
        raw = json.loads(raw)
    return [
        {
            "name": str(line.get("product_name", "")),
            "quantity": int(line.get("quantity", 1)),
            "total_minor": int(line.get("total_gross_minor", 0)),
        }
        for line in raw or []
    ]


def request_feedback(tenant: Tenant, now: datetime | None = None) -> int:
    """Queue the post-purchase e-mail for every order now due (one set-based query), once per
    order (dedupe key ``post-purchase:<order id>``), however often the task runs. Marketing by
    default (``CRM_POST_PURCHASE_PURPOSE``): the outbox then checks consent, the send window and
    the frequency cap. Returns how many were queued."""
    after_fulfilled = crm_settings.POST_PURCHASE_DAYS
    after_paid = crm_settings.POST_PURCHASE_UNFULFILLED_DAYS
    if after_fulfilled <= 0 and after_paid <= 0:
        return 0
    moment = now or timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            DUE_SQL,
            {
                "tenant": tenant.pk,
                "after_fulfilled": after_fulfilled,
                "after_paid": after_paid,
                "now": moment,
                "grace": GRACE.total_seconds(),
            },
        )
        due = cur.fetchall()
    profiles = Profile.objects.select_related("tenant").in_bulk([row[0] for row in due])
    purpose = Purpose(crm_settings.POST_PURCHASE_PURPOSE)
    queued = 0
    for profile_id, order_id, number, channel, currency, total, lines in due:
        profile = profiles.get(profile_id)
        if profile is None or not profile.email:
            continue
        outbox.enqueue(
            profile,
            KIND,
            purpose=purpose,
            dedupe_key=f"post-purchase:{order_id}",
            store_channel=channel,
            data={
                "order_number": number,
                "currency": currency,
                "total_minor": int(total),
                "lines": _lines(lines),
                "feedback_url": feedback_url(tenant.pk, order_id),
            },
            now=moment,
        )
        queued += 1
    return queued

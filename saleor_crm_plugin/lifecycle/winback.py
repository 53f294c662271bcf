"""Win-back: one e-mail when a customer becomes dormant, optionally with a personal discount."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..conf import crm_settings
from ..messaging import services as outbox
from ..messaging.models import Purpose
from ..profiles.events import NOT_PURCHASES
from ..profiles.models import Profile
from ..recovery import discounts
from ..tenants import store_settings
from ..tenants.models import Tenant

log = logging.getLogger(__name__)

WINBACK_KIND = "win_back"

# Dormant customers not yet written to about their current dormant spell: no win-back since
# their last purchase. A customer who buys again and later falls dormant again is in a new spell
# (and gets a new e-mail); one still dormant, or a guest history folded into their account with
# its messages, is not. Reads the stage index (crm_scores_stage) and the customer's own messages
# (the profile index), so the cost follows the dormant customers, not the messages ever sent.
# The dedupe key (customer and spell) keeps two passes at once from queuing it twice.
DUE = """
SELECT s.profile_id, floor(extract(epoch FROM s.last_purchase_at))::bigint AS spell,
       o.channel, o.currency
FROM crm_customer_scores s
JOIN crm_profile p ON p.id = s.profile_id AND p.email <> '' AND p.is_active
CROSS JOIN LATERAL (
  SELECT channel, currency FROM crm_order
  WHERE profile_id = s.profile_id AND status <> ALL(%(not_purchases)s::text[])
  ORDER BY created_at DESC LIMIT 1
) o
WHERE s.tenant_id = %(tenant)s AND s.stage = 'dormant' AND s.last_purchase_at IS NOT NULL
  AND o.channel <> ALL(%(disabled)s::text[])
  AND NOT EXISTS (
    SELECT 1 FROM crm_message m
    WHERE m.profile_id = s.profile_id AND m.kind = 'win_back'
      AND m.created_at >= s.last_purchase_at)
ORDER BY s.profile_id
LIMIT %(limit)s
"""


def send_winbacks(tenant: Tenant, now: datetime | None = None, limit: int = 1000) -> int:
    """Queue the win-back e-mail for every customer who became dormant (stages from
    ``segments/scores.py``), once per dormant spell, in the channel of their last order.

    Marketing: consent, the customer's send window and the frequency cap apply (a refused
    message is recorded as skipped with the reason and not tried again for this spell). When
    the channel's *Win-back discount* is set, a personal voucher is created first; if Saleor
    does not create it, this customer's e-mail waits for the next pass rather than going out
    without the code. Returns how many were queued or recorded.
    """
    if not crm_settings.WINBACK_ENABLED:
        return 0
    moment = now or timezone.now()
    found = store_settings.for_tenant(tenant)
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "limit": limit,
        "not_purchases": list(NOT_PURCHASES),
        "disabled": sorted(slug for slug, c in found.channels.items() if not c.enabled),
    }
    with connection.cursor() as cur:
        cur.execute(DUE, params)
        due = cur.fetchall()
    profiles = Profile.objects.select_related("tenant").in_bulk([row[0] for row in due])
    done = 0
    for profile_id, spell, channel, currency in due:
        profile, key = profiles[profile_id], f"winback:{profile_id}:{spell}"
        try:
            with transaction.atomic():
                data: dict[str, Any] = {}
                discount = found.for_channel(channel).winback_discount
                if discount and not outbox.refusal(profile, Purpose.MARKETING, channel, "win_back"):
                    issued = discounts.issue(
                        tenant,
                        discount,
                        key=key,
                        channel=channel,
                        currency=currency,
                        email=profile.email,
                        starts=moment,
                    )
                    data = discounts.message_data(discount, issued, currency)
                outbox.enqueue(
                    profile,
                    WINBACK_KIND,
                    purpose=Purpose.MARKETING,
                    dedupe_key=key,
                    data=data,
                    store_channel=channel,
                    now=moment,
                )
        except discounts.DiscountUnavailable as exc:
            log.warning("win-back for profile %s waits for its voucher: %s", profile_id, exc)
            continue
        done += 1
    return done

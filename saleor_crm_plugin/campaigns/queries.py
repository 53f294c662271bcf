"""Reads of campaigns: delivery counts, response (orders attributed to a message) and the
preview of a step as a customer would see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from ..conf import crm_settings
from ..messaging.locales import normalise
from ..messaging.render import Rendered, render, template_context
from ..profiles.events import NOT_PURCHASES
from . import content
from .models import Campaign, CampaignStep


@dataclass
class Counts:
    """Where a step's messages (or the campaign's, over all steps) are now."""

    released: int = 0
    queued: int = 0  # in the outbox, waiting for its time, window or the frequency cap
    sent: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> how many


def counts(campaign: Campaign) -> dict[int, Counts]:
    """Counts per step position, and the campaign's total under position 0."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT s.position, m.status, m.reason, count(*)
            FROM crm_campaign_message cm
            JOIN crm_campaign_step s ON s.id = cm.step_id
            JOIN crm_message m ON m.id = cm.message_id
            WHERE s.campaign_id = %s
            GROUP BY s.position, m.status, m.reason
            """,
            [campaign.pk],
        )
        rows = cur.fetchall()
    found: dict[int, Counts] = {0: Counts()}
    for position, status, reason, n in rows:
        for key in (position, 0):
            c = found.setdefault(key, Counts())
            c.released += n
            if status in ("queued", "sending"):
                c.queued += n
            elif status == "sent":
                c.sent += n
            elif status == "failed":
                c.failed += n
            else:
                c.skipped[reason] = c.skipped.get(reason, 0) + n
    return found


@dataclass(frozen=True)
class Response:
    responders: int  # recipients who ordered
    orders: int
    revenue_minor: int  # gross, in the store's base currency


# An order counts for the campaign when its customer received one of its messages at most
# the attribution window before it; it is credited to the latest such step, once (an order
# delivered again is the same crm_order row, so nothing counts twice).
RESPONSE = """
WITH delivered AS (
  SELECT cm.profile_id, s.position, m.sent_at
  FROM crm_campaign_message cm
  JOIN crm_campaign_step s ON s.id = cm.step_id
  JOIN crm_message m ON m.id = cm.message_id
  WHERE s.campaign_id = %(campaign)s AND m.status = 'sent'
),
hits AS (
  SELECT DISTINCT ON (o.id) o.id, o.profile_id, o.total_gross_base_minor, d.position
  FROM delivered d
  JOIN crm_order o ON o.profile_id = d.profile_id AND o.tenant_id = %(tenant)s
   AND o.created_at >= d.sent_at
   AND o.created_at <= d.sent_at + make_interval(days => %(window)s)
   AND o.status <> ALL(%(not_purchases)s::text[])
  ORDER BY o.id, d.sent_at DESC
)
SELECT coalesce(position, 0), count(DISTINCT profile_id), count(*),
       coalesce(sum(total_gross_base_minor), 0)
FROM hits GROUP BY GROUPING SETS ((position), ())
"""


def response(campaign: Campaign) -> dict[int, Response]:
    """Orders attributed to the campaign per step position (0: the whole campaign), within
    ``CRM_CAMPAIGN_ATTRIBUTION_DAYS`` after a message reached the customer. Computed from the
    stored orders each time, so late, repeated or out-of-order order events change nothing
    but the truth."""
    with connection.cursor() as cur:
        cur.execute(
            RESPONSE,
            {
                "campaign": campaign.pk,
                "tenant": campaign.tenant_id,
                "window": crm_settings.CAMPAIGN_ATTRIBUTION_DAYS,
                "not_purchases": list(NOT_PURCHASES),
            },
        )
        rows = cur.fetchall()
    found = {position: Response(int(r), int(o), int(v)) for position, r, o, v in rows}
    found.setdefault(0, Response(0, 0, 0))
    return found


@dataclass(frozen=True)
class Preview:
    locale: str  # the version shown (after the fallback chain)
    rendered: Rendered


def preview(
    step: CampaignStep, language: str, *, shop: str, name: str = "", unsubscribe_url: str = ""
) -> Preview:
    """The step as a customer with ``language`` would get it: their version and our layout."""
    campaign = step.campaign
    locale = content.choose(step.content, normalise(language), campaign.store_channel)
    data: dict[str, Any] = {**step.content[locale]}
    ctx = template_context(
        "campaign",
        locale,
        data,
        name=name,
        shop=shop,
        time_zone="UTC",
        unsubscribe_url=unsubscribe_url,
    )
    return Preview(locale=locale, rendered=render("campaign", locale, ctx))

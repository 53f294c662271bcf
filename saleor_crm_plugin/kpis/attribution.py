"""Revenue attributed to the CRM's flows: which message (or recovered cart) led to an order.

Every purchase of the period (in the slice) is credited at most once, last touch:

1. a recovered cart or browse flow that recorded the order (``recovery.follow_orders`` keeps the
   order and the reminder that came before it): the flow's kind and that reminder's step;
2. else the newest message of another flow (win-back, post-purchase, campaigns, ...) that
   really reached the customer at most ``CRM_CAMPAIGN_ATTRIBUTION_DAYS`` before the order.

Recovery reminders count only through their flow, so this agrees with the recovery figures:
one reminder sequence recovers one order. Computed from the stored orders and messages each
time, so a late, repeated or out-of-order event changes nothing but the truth; one statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..campaigns.models import Campaign
from ..conf import crm_settings
from ..scaleout.replica import analytics_connection
from ..tenants.models import Tenant
from .sql import IN_PERIOD, IN_SLICE, PURCHASE, params, reporting
from .types import Slice

# Message kinds that stand for a flow of their own. Recovery reminders (abandoned_checkout,
# browse_reminder) are credited through their flow; consent confirmations sell nothing.
TOUCH_KINDS = (
    "campaign",
    "win_back",
    "post_purchase",
    "welcome",
    "tier_changed",
    "points_expiring",
)

_BY_FLOW = f"""
WITH orders AS (
  SELECT o.id, o.order_id, o.profile_id, o.created_at, o.total_gross_base_minor AS total
  FROM crm_order o
  WHERE {PURCHASE} AND {IN_PERIOD} AND {IN_SLICE} AND o.profile_id IS NOT NULL
),
recovered AS (
  -- An order may end a cart and a browse flow at once: the cart's reminder gets it.
  SELECT DISTINCT ON (o.id) o.id, f.kind::text AS flow, f.recovered_step + 1 AS step,
    NULL::bigint AS campaign_id
  FROM orders o
  JOIN crm_recovery_flow f ON f.tenant_id = %(tenant)s AND f.status = 'recovered'
   AND f.recovered_order_id = o.order_id
  ORDER BY o.id, f.kind = 'checkout' DESC, f.recovered_step DESC
),
touched AS (
  SELECT DISTINCT ON (o.id) o.id, m.kind::text AS flow, NULL::int AS step,
    cs.campaign_id::bigint
  FROM orders o
  JOIN crm_message m ON m.tenant_id = %(tenant)s AND m.profile_id = o.profile_id
   AND m.status = 'sent' AND m.kind = ANY(%(kinds)s::text[])
   AND m.sent_at <= o.created_at
   AND o.created_at <= m.sent_at + make_interval(days => %(window)s)
  LEFT JOIN crm_campaign_message cm ON cm.message_id = m.id
  LEFT JOIN crm_campaign_step cs ON cs.id = cm.step_id
  WHERE NOT EXISTS (SELECT 1 FROM recovered r WHERE r.id = o.id)
  ORDER BY o.id, m.sent_at DESC, m.id DESC
)
SELECT a.flow, a.step, a.campaign_id, count(*), count(DISTINCT o.profile_id), sum(o.total)
FROM (SELECT * FROM recovered UNION ALL SELECT * FROM touched) a
JOIN orders o ON o.id = a.id
GROUP BY 1, 2, 3
"""


@dataclass(frozen=True)
class FlowRevenue:
    """Orders credited to one flow (a recovery kind and reminder step, a message kind, or one
    campaign), in the base currency."""

    flow: str  # "checkout", "browse", or a message kind such as "win_back", "campaign"
    step: int | None  # the recovery reminder, from 1; None for other flows
    campaign_id: int | None
    campaign_name: str
    orders: int
    customers: int
    revenue_minor: int


def revenue_by_flow(tenant: Tenant, where: Slice) -> list[FlowRevenue]:
    """The period's purchases credited to the flow that led to them (see the module), largest
    revenue first; flows with no credited order are left out."""
    values = params(
        tenant,
        where,
        kinds=list(TOUCH_KINDS),
        window=crm_settings.CAMPAIGN_ATTRIBUTION_DAYS,
    )
    with reporting(), analytics_connection().cursor() as cur:
        cur.execute(_BY_FLOW, values)
        rows = cur.fetchall()
    names = dict(
        Campaign.objects.filter(
            tenant=tenant, pk__in=[r[2] for r in rows if r[2] is not None]
        ).values_list("pk", "name")
    )
    found = [
        FlowRevenue(
            flow=flow,
            step=None if step is None else int(step),
            campaign_id=campaign,
            campaign_name=names.get(campaign, "") if campaign is not None else "",
            orders=int(orders),
            customers=int(customers),
            revenue_minor=int(revenue),
        )
        for flow, step, campaign, orders, customers, revenue in rows
    ]
    found.sort(key=lambda f: (-f.revenue_minor, f.flow, f.step or 0, f.campaign_id or 0))
    return found

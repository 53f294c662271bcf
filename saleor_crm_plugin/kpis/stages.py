"""Customers by lifecycle stage at the end of each day, week or month, rebuilt from the orders.

Neither the scores nor anything else keeps a history of stages, so the stage a customer had at a
moment T is worked out the way the recompute works it out now: days since their last purchase
before T against the store's thresholds (in cadence mode times their cadence as of the last
recompute, an approximation for the past), and "new" while they had bought once.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection

from ..conf import crm_settings
from ..segments.models import ScoreBoundaries
from ..segments.scores import MIN_CADENCE_DAYS, Lifecycle, lifecycle_for
from ..tenants.models import Tenant
from .sql import PURCHASE, SLICE_CUSTOMERS, params
from .types import Slice, StagePoint

# Each purchase stands for its customer from its moment until their next purchase: it covers the
# moments E[k] with created_at < E[k] <= next_at, found by ``width_bucket`` on the sorted array
# of moments, so the cost is the orders plus the (customer, moment) pairs, not their product.
_STAGES = f"""
WITH visits AS (
  SELECT o.profile_id, o.created_at,
         lead(o.created_at) OVER w AS next_at, row_number() OVER w AS n
  FROM crm_order o
  WHERE {PURCHASE} AND o.profile_id IS NOT NULL AND o.created_at < %(last)s
    AND (%(channel)s = '' AND %(country)s = '' OR o.profile_id IN ({SLICE_CUSTOMERS}))
  WINDOW w AS (PARTITION BY o.profile_id ORDER BY o.created_at)
),
points AS (
  SELECT v.profile_id, v.created_at, v.n, k
  FROM visits v, generate_series(
    width_bucket(v.created_at, %(moments)s::timestamptz[]) + 1,
    CASE WHEN v.next_at IS NULL THEN cardinality(%(moments)s::timestamptz[])
         ELSE width_bucket(v.next_at, %(moments)s::timestamptz[]) END) AS k
),
aged AS (
  SELECT p.k, p.n,
    extract(epoch FROM (%(moments)s::timestamptz[])[p.k] - p.created_at) / 86400.0 AS days,
    CASE WHEN %(mode)s = 'days' THEN 1
         ELSE greatest(COALESCE(cs.cadence_days, %(store_cadence)s), %(min_cadence)s) END AS unit
  FROM points p LEFT JOIN crm_customer_scores cs ON cs.profile_id = p.profile_id
)
SELECT k,
  CASE WHEN days > %(lost)s * unit THEN 'lost'
       WHEN days > %(dormant)s * unit THEN 'dormant'
       WHEN days > %(at_risk)s * unit THEN 'at_risk'
       WHEN n = 1 THEN 'new' ELSE 'active' END,
  count(*)
FROM aged GROUP BY 1, 2
"""


def stage_series(
    tenant: Tenant, where: Slice, points: list[tuple[date, datetime]]
) -> list[StagePoint]:
    """Customers (of the slice) per stage at each moment: ``points`` pairs a bucket with the
    moment counted, ascending."""
    if not points:
        return []
    lifecycle: Lifecycle = lifecycle_for(tenant)
    boundaries = ScoreBoundaries.objects.filter(tenant=tenant).first()
    store_cadence = (boundaries.store_cadence_days if boundaries else None) or (
        crm_settings.LIFECYCLE_DEFAULT_CADENCE_DAYS
    )
    counts: dict[int, dict[str, int]] = {}
    with connection.cursor() as cur:
        cur.execute(
            _STAGES,
            params(
                tenant,
                where,
                moments=[m for _, m in points],
                last=points[-1][1],
                mode=lifecycle.mode,
                at_risk=lifecycle.at_risk_after,
                dormant=lifecycle.dormant_after,
                lost=lifecycle.lost_after,
                store_cadence=store_cadence,
                min_cadence=MIN_CADENCE_DAYS,
            ),
        )
        for k, stage, n in cur.fetchall():
            counts.setdefault(int(k), {})[str(stage)] = int(n)
    return [
        StagePoint(starts=start, at=moment, stages=counts.get(i, {}))
        for i, (start, moment) in enumerate(points, start=1)
    ]

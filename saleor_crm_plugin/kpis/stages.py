"""Customers by lifecycle stage at the end of each day, week or month, and churn, rebuilt from
the orders in one pass (both need each customer's purchases in order, the costly part).

For moments before a store's stored stage history starts (``stage_history.py`` reads it after),
and for churn, the stage a customer had at a moment T is worked out the way the recompute works
it out now: days since their last purchase before T against the store's thresholds (in cadence
mode times their cadence as of the last recompute, an approximation for the past), and "new"
while they had bought once.
"""

from __future__ import annotations

from datetime import date, datetime

from ..conf import crm_settings
from ..scaleout.replica import analytics_connection
from ..segments.models import ScoreBoundaries
from ..segments.scores import MIN_CADENCE_DAYS, Lifecycle, lifecycle_for
from ..tenants.models import Tenant
from .sql import PURCHASE, SLICE_CUSTOMERS, params
from .types import Churn, Slice, StagePoint

# Each purchase stands for its customer from its moment until their next purchase: it covers the
# moments E[k] with created_at < E[k] <= next_at, i.e. k in (lo, hi] with ``width_bucket`` on the
# sorted array of moments. Within that range the stage changes only when the thresholds pass, so
# a purchase gives at most four ranges of k (young, at risk, dormant, lost), each sent as +1 at
# its first moment and -1 after its last; summing them per moment gives the counts. The cost is
# one pass over the orders, however many moments are charted.
#
# Churn from the same purchases: a customer becomes lost `lost * unit` after a purchase not
# followed by another by then. Purchases stop at `last` (the period's end or now), which changes
# nothing: a later purchase is after any moment counted.
_LIFECYCLE = f"""
WITH visits AS (
  SELECT o.profile_id, o.created_at,
         lead(o.created_at) OVER w AS next_at, row_number() OVER w AS n
  FROM crm_order o
  WHERE {PURCHASE} AND o.profile_id IS NOT NULL AND o.created_at < %(last)s
    AND (%(channel)s = '' AND %(country)s = '' OR o.profile_id IN ({SLICE_CUSTOMERS}))
  WINDOW w AS (PARTITION BY o.profile_id ORDER BY o.created_at)
),
timed AS MATERIALIZED (  -- read by the chart and by churn
  SELECT v.profile_id, v.n, v.next_at,
    width_bucket(v.created_at, %(moments)s::timestamptz[]) AS lo,
    CASE WHEN v.next_at IS NULL THEN cardinality(%(moments)s::timestamptz[])
         ELSE width_bucket(v.next_at, %(moments)s::timestamptz[]) END AS hi,
    v.created_at, 86400 * CASE WHEN %(mode)s = 'days' THEN 1
      ELSE greatest(COALESCE(cs.cadence_days, %(store_cadence)s), %(min_cadence)s) END AS unit
  FROM visits v LEFT JOIN crm_customer_scores cs ON cs.profile_id = v.profile_id
),
passes AS MATERIALIZED (  -- each threshold computed once, not in every range below
  SELECT n, lo, hi,
    width_bucket(created_at + make_interval(secs => %(at_risk)s * unit),
                 %(moments)s::timestamptz[]) AS b1,
    width_bucket(created_at + make_interval(secs => %(dormant)s * unit),
                 %(moments)s::timestamptz[]) AS b2,
    width_bucket(created_at + make_interval(secs => %(lost)s * unit),
                 %(moments)s::timestamptz[]) AS b3
  FROM timed WHERE hi > lo
),
chart AS (
  SELECT s.stage, d.k, sum(d.delta) AS n
  FROM passes p
  CROSS JOIN LATERAL (VALUES
    (CASE WHEN p.n = 1 THEN 'new' ELSE 'active' END, p.lo, least(p.hi, p.b1)),
    ('at_risk', greatest(p.lo, p.b1), least(p.hi, p.b2)),
    ('dormant', greatest(p.lo, p.b2), least(p.hi, p.b3)),
    ('lost', greatest(p.lo, p.b3), p.hi)
  ) AS s(stage, after, upto)
  CROSS JOIN LATERAL (VALUES (s.after + 1, 1), (s.upto + 1, -1)) AS d(k, delta)
  WHERE s.upto > s.after
  GROUP BY 1, 2
),
lost AS (
  SELECT profile_id, created_at, next_at,
         created_at + make_interval(secs => %(lost)s * unit) AS lost_at
  FROM timed
)
SELECT stage, k, n FROM chart
UNION ALL
SELECT 'churned', count(DISTINCT profile_id) FILTER (
    WHERE lost_at >= %(start)s AND lost_at < %(last)s
      AND (next_at IS NULL OR next_at > lost_at)),
  count(DISTINCT profile_id) FILTER (
    WHERE (created_at < %(start)s AND (next_at IS NULL OR next_at >= %(start)s)
           AND lost_at >= %(start)s)
       OR created_at >= %(start)s)
FROM lost
"""


def lifecycle_pass(
    tenant: Tenant, where: Slice, points: list[tuple[date, datetime]], now: datetime
) -> tuple[list[StagePoint], Churn]:
    """Customers (of the slice) per stage at each moment (``points`` pairs a bucket with the
    moment counted, ascending, none after ``now``), and churn in the period up to ``now``."""
    last = min(where.end, now)
    lifecycle: Lifecycle = lifecycle_for(tenant)
    boundaries = ScoreBoundaries.objects.filter(tenant=tenant).first()
    store_cadence = (boundaries.store_cadence_days if boundaries else None) or (
        crm_settings.LIFECYCLE_DEFAULT_CADENCE_DAYS
    )
    deltas: dict[str, dict[int, int]] = {}
    churned = could_churn = 0
    with analytics_connection().cursor() as cur:
        cur.execute(
            _LIFECYCLE,
            params(
                tenant,
                where,
                # No moment yet (a period in the future): one at the end, charted nowhere.
                moments=[m for _, m in points] or [last],
                last=last,
                mode=lifecycle.mode,
                at_risk=lifecycle.at_risk_after,
                dormant=lifecycle.dormant_after,
                lost=lifecycle.lost_after,
                store_cadence=store_cadence,
                min_cadence=MIN_CADENCE_DAYS,
            ),
        )
        for stage, k, n in cur.fetchall():
            if stage == "churned":
                churned, could_churn = int(k), int(n)
            else:
                deltas.setdefault(str(stage), {})[int(k)] = int(n)
    return accumulate(points, deltas), Churn(churned=churned, could_churn=could_churn)


def accumulate(
    points: list[tuple[date, datetime]], deltas: dict[str, dict[int, int]]
) -> list[StagePoint]:
    """The chart from per-stage changes at each point (``deltas[stage][k]``: customers entering
    minus leaving the stage by the k-th point, 1-based): one running sum per stage."""
    running = dict.fromkeys(deltas, 0)
    chart = []
    for k, (start, moment) in enumerate(points, start=1):
        for stage, by_k in deltas.items():
            running[stage] += by_k.get(k, 0)
        chart.append(
            StagePoint(starts=start, at=moment, stages={s: n for s, n in running.items() if n})
        )
    return chart

"""Retention of customers grouped by the month of their first purchase."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ..scaleout.replica import analytics_connection
from ..tenants.models import Tenant
from .sql import IN_SLICE, PURCHASE, local, params, reporting
from .types import Cohort, CohortCell, Slice

# A cohort is everyone whose first purchase ever fell in a local month of the period (and, with
# a channel or country, was made there); a cell counts them again in each later local month in
# which they bought anything anywhere. Month 0 is the cohort itself.
_COHORTS = f"""
WITH firsts AS (
  SELECT DISTINCT ON (o.profile_id) o.profile_id, o.created_at, o.channel, o.country
  FROM crm_order o WHERE {PURCHASE} AND o.profile_id IS NOT NULL
  ORDER BY o.profile_id, o.created_at, o.id
),
cohort AS (
  SELECT o.profile_id, {local("o.created_at", "'month'")} AS month FROM firsts o
  WHERE o.created_at >= %(start)s AND o.created_at < %(end)s AND {IN_SLICE}
),
active AS (
  SELECT DISTINCT c.profile_id, c.month, {local("o.created_at", "'month'")} AS in_month
  FROM cohort c JOIN crm_order o ON o.profile_id = c.profile_id
  WHERE {PURCHASE} AND o.created_at < %(now)s
)
SELECT month::date,
  ((extract(year FROM in_month) - extract(year FROM month)) * 12
    + extract(month FROM in_month) - extract(month FROM month))::int AS since,
  count(*)
FROM active GROUP BY 1, 2 ORDER BY 1, 2
"""


def _months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def cohorts(tenant: Tenant, where: Slice, now: datetime) -> list[Cohort]:
    """One cohort per local month of the period with first purchases, and for each month since
    (up to the current one) the share of the cohort that bought in it, four places."""
    with reporting(), analytics_connection().cursor() as cur:
        cur.execute(_COHORTS, params(tenant, where, now=now))
        rows = cur.fetchall()
    current = now.astimezone(where.start.tzinfo).date()
    by_month: dict[date, dict[int, int]] = {}
    for month, since, count in rows:
        by_month.setdefault(month, {})[since] = int(count)
    found = []
    for month, counts in sorted(by_month.items()):
        size = counts[0]  # everyone bought in their first month
        cells = [
            CohortCell(
                k,
                counts.get(k, 0),
                (Decimal(counts.get(k, 0)) / Decimal(size)).quantize(Decimal("0.0001")),
            )
            for k in range(_months_between(month, current) + 1)
        ]
        found.append(Cohort(month=month, customers=size, cells=cells))
    return found

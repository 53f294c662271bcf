"""Customers per lifecycle stage at each moment, read from the stored stage history.

Once a store's history is complete (``segments/history.py``: from its first full recompute),
the stage a customer had at a moment is the one the CRM had stored then: the ``to_stage`` of
their last change at or before it, else the ``from_stage`` of their first change after it, else
(no change since the history began) the stage they have now. That is a pass over the store's
stage changes and current scores, a few rows per customer, instead of sorting every order of
the store and replaying the thresholds (``stages.py``, still used for moments before the
history starts).
"""

from __future__ import annotations

from datetime import date, datetime

from ..scaleout.replica import analytics_connection
from ..tenants.models import Tenant
from .sql import SLICE_CUSTOMERS, params
from .stages import accumulate
from .types import Slice, StagePoint

# Each stored stage holds over a span [a, b): a change's stage from it until the customer's next
# change; the first change's from_stage before it; the current stage all along for a customer
# with no change. ``before(t)``, the number of moments before t, is ``width_bucket`` one
# microsecond (timestamptz's resolution) earlier, so a change at a moment counts at it. A span
# covers moments k in (before(a), before(b)], sent as +1 at its first and -1 after its last.
_BEFORE = "width_bucket({t} - interval '1 microsecond', %(moments)s::timestamptz[])"
_ALL = "cardinality(%(moments)s::timestamptz[])"
_IN_SLICE = f"(%(channel)s = '' AND %(country)s = '' OR {{col}} IN ({SLICE_CUSTOMERS}))"

_HISTORY = f"""
WITH changes AS (
  SELECT c.from_stage, c.to_stage, c.changed_at,
         lead(c.changed_at) OVER w AS next_at, row_number() OVER w AS n
  FROM crm_stage_change c
  WHERE c.tenant_id = %(tenant)s AND {_IN_SLICE.format(col="c.profile_id")}
  WINDOW w AS (PARTITION BY c.profile_id ORDER BY c.changed_at, c.id)
),
spans AS (
  SELECT to_stage AS stage, {_BEFORE.format(t="changed_at")} AS after,
         CASE WHEN next_at IS NULL THEN {_ALL} ELSE {_BEFORE.format(t="next_at")} END AS upto
  FROM changes
  UNION ALL
  SELECT from_stage, 0, {_BEFORE.format(t="changed_at")} FROM changes WHERE n = 1
  UNION ALL
  SELECT cs.stage, 0, {_ALL} FROM crm_customer_scores cs
  WHERE cs.tenant_id = %(tenant)s AND cs.stage <> ''
    AND {_IN_SLICE.format(col="cs.profile_id")}
    AND NOT EXISTS (SELECT 1 FROM crm_stage_change c WHERE c.profile_id = cs.profile_id)
)
SELECT s.stage, d.k, sum(d.delta)
FROM spans s CROSS JOIN LATERAL (VALUES (s.after + 1, 1), (s.upto + 1, -1)) AS d(k, delta)
WHERE s.stage <> '' AND s.upto > s.after
GROUP BY 1, 2
"""


def history_chart(
    tenant: Tenant, where: Slice, points: list[tuple[date, datetime]]
) -> list[StagePoint]:
    """Customers (of the slice) per stage at each moment of ``points`` (ascending, none before
    the store's history starts), as the CRM had them stored."""
    if not points:
        return []
    deltas: dict[str, dict[int, int]] = {}
    with analytics_connection().cursor() as cur:
        cur.execute(_HISTORY, params(tenant, where, moments=[m for _, m in points]))
        for stage, k, n in cur.fetchall():
            deltas.setdefault(str(stage), {})[int(k)] = int(n)
    return accumulate(points, deltas)

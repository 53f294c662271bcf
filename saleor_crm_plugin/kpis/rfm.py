"""The RFM grid: customers per recency score and FM score (the average of frequency and
monetary, as the groups are defined in ``segments/groups.py``), each cell in its group.

Scores have no history (``crm_customer_scores`` holds the last recompute), so the grid is the
current one, like the stage and tier counts; with a channel or country it counts the customers
with a purchase there at any time.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..scaleout.replica import analytics_connection
from ..segments.groups import GRID
from ..tenants.models import Tenant
from .sql import SLICE_CUSTOMERS, params, reporting
from .types import Slice

# One grouping of the store's scores; rows without scores (a prospect, or a customer scored
# before the store's first full recompute) count in their group only.
_GRID = f"""
SELECT cs.recency, (cs.frequency + cs.monetary + 1) / 2, cs.rfm_group, count(*)
FROM crm_customer_scores cs
WHERE cs.tenant_id = %(tenant)s AND cs.rfm_group <> ''
  AND (%(channel)s = '' AND %(country)s = '' OR cs.profile_id IN ({SLICE_CUSTOMERS}))
GROUP BY 1, 2, 3
"""


@dataclass(frozen=True)
class RfmCell:
    recency: int  # 1 (longest ago) to 5 (most recent)
    fm: int  # (frequency + monetary + 1) // 2, 1 to 5
    group: str
    customers: int


@dataclass(frozen=True)
class RfmGrid:
    cells: list[RfmCell]  # all 25, empty ones included, recency 5 first
    groups: dict[str, int]  # customers per group, prospects included


def rfm_grid(tenant: Tenant, where: Slice) -> RfmGrid:
    """Customers per (recency, FM) cell and per RFM group, as of the last recompute."""
    with reporting(), analytics_connection().cursor() as cur:
        cur.execute(_GRID, params(tenant, where))
        rows = cur.fetchall()
    per_cell: dict[tuple[int, int], int] = {}
    groups: dict[str, int] = {}
    for r, fm, group, n in rows:
        groups[group] = groups.get(group, 0) + int(n)
        if r is not None and fm is not None:
            per_cell[(int(r), int(fm))] = per_cell.get((int(r), int(fm)), 0) + int(n)
    cells = [
        RfmCell(r, i + 1, name, per_cell.get((r, i + 1), 0))
        for r, names in sorted(GRID.items(), reverse=True)
        for i, name in enumerate(names)
    ]
    return RfmGrid(cells=cells, groups=dict(sorted(groups.items())))

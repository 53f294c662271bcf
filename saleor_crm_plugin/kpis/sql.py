"""SQL fragments every report shares: what a purchase is and which orders a slice holds.

Only these constants reach the SQL text; every value (tenant, period, channel, country, time
zone) is a query parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..profiles.events import NOT_PURCHASES
from ..scaleout.replica import read_only
from ..tenants.models import Tenant
from .types import Slice

# A purchase: the same orders the profile's figures and the RFM scores count.
PURCHASE = "o.tenant_id = %(tenant)s AND o.status <> ALL(%(not_purchases)s)"
IN_SLICE = (
    "(%(channel)s = '' OR o.channel = %(channel)s)"
    " AND (%(country)s = '' OR o.country = %(country)s)"
)
# Who a report about customers may count: anyone with a purchase in the slice, at any time.
SLICE_CUSTOMERS = (
    f"SELECT o.profile_id FROM crm_order o WHERE {PURCHASE} AND {IN_SLICE}"
    " AND o.profile_id IS NOT NULL"
)
IN_PERIOD = "o.created_at >= %(start)s AND o.created_at < %(end)s"


def local(column: str, unit: str = "%(unit)s") -> str:
    """The start of the store-local day, week or month a moment falls in (a local timestamp)."""
    return f"date_trunc({unit}, {column} AT TIME ZONE %(tz)s)"


def params(tenant: Tenant, where: Slice, **more: Any) -> dict[str, Any]:
    return {
        "tenant": tenant.pk,
        "not_purchases": list(NOT_PURCHASES),
        "channel": where.channel,
        "country": where.country,
        "start": where.start,
        "end": where.end,
        "tz": where.time_zone,
        **more,
    }


# Reports sort and group a store's orders: in memory rather than spilled to disk (PostgreSQL's
# default work_mem is 4 MB). JIT compilation costs seconds on these statements (the planner
# overestimates the rows of generate_series and compiles) and saves nothing.
REPORT_WORK_MEM = "64MB"


@contextmanager
def reporting() -> Iterator[None]:
    """A read-only transaction on the analytics database (``CRM_ANALYTICS_DATABASE``: a
    replica when there is one) with settings for report queries (``SET LOCAL``: they end
    with it). Statements inside use ``analytics_connection()``."""
    with read_only() as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        cur.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        yield

"""KPIs of a store over a period, per channel and country, in the base currency.

Each figure is one set-based statement over the stored orders (FX fixed at order time), so the
figures are a function of the orders we hold: replays and late deliveries cannot double-count.
Definitions are in docs/kpis.md.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from ..scaleout.replica import analytics_connection
from ..segments.history import history_since
from ..tenants.models import Tenant
from .attribution import FlowRevenue, revenue_by_flow
from .errors import InvalidReport
from .rfm import RfmGrid, rfm_grid
from .sql import IN_PERIOD, IN_SLICE, PURCHASE, SLICE_CUSTOMERS, params, reporting
from .stage_history import history_chart
from .stages import lifecycle_pass
from .types import (
    INTERVALS,
    Bucket,
    CampaignResponse,
    Churn,
    Kpis,
    Recovery,
    Slice,
    StagePoint,
    Summary,
)

# Per customer (orders without one in a group of their own): the period's purchases in the slice,
# and their purchases ever (any channel) before its end: first one, how many, net spend. One
# scan of the store's orders before the end, one grouping.
_SUMMARY = f"""
WITH per_customer AS (
  SELECT o.profile_id,
    count(*) FILTER (WHERE counted) AS orders,
    COALESCE(sum(o.total_gross_base_minor) FILTER (WHERE counted), 0) AS gross,
    COALESCE(sum(o.refunded_base_minor) FILTER (WHERE counted), 0) AS refunded,
    min(o.created_at) AS first_at, count(*) AS purchases,
    sum(o.total_gross_base_minor - o.refunded_base_minor) AS value
  FROM crm_order o,
    LATERAL (SELECT ({IN_SLICE}) AND o.created_at >= %(start)s AS counted) c
  WHERE {PURCHASE} AND o.created_at < %(end)s
  GROUP BY o.profile_id
)
SELECT COALESCE(sum(orders), 0), COALESCE(sum(gross), 0), COALESCE(sum(refunded), 0),
  count(*) FILTER (WHERE customer),
  count(*) FILTER (WHERE customer AND first_at >= %(start)s),
  count(*) FILTER (WHERE customer AND purchases >= 2),
  COALESCE(sum(value) FILTER (WHERE customer), 0)
FROM (SELECT *, profile_id IS NOT NULL AND orders > 0 AS customer FROM per_customer) x
"""

# One row per local day, week or month with a purchase in the slice, numbered k = 1, 2, ...:
# ``width_bucket`` on the buckets' starts (moments, the first at or before the period's start);
# a customer is new in the bucket holding their first purchase ever (any channel), 0 when that
# was before the first bucket. Numbering the buckets by a binary search over a few moments
# instead of truncating every order's local time (twice) cut the statement by about a quarter
# at 1,000,000 orders, same rows.
_SERIES = f"""
WITH firsts AS (
  SELECT o.profile_id, width_bucket(min(o.created_at), %(starts)s::timestamptz[]) AS first_k
  FROM crm_order o
  WHERE {PURCHASE} AND o.profile_id IS NOT NULL AND o.created_at < %(end)s
  GROUP BY o.profile_id
)
SELECT b.k, count(DISTINCT o.profile_id),
  count(DISTINCT o.profile_id) FILTER (WHERE f.first_k = b.k),
  count(*), sum(o.total_gross_base_minor), sum(o.refunded_base_minor)
FROM crm_order o LEFT JOIN firsts f ON f.profile_id = o.profile_id,
  LATERAL (SELECT width_bucket(o.created_at, %(starts)s::timestamptz[]) AS k) b
WHERE {PURCHASE} AND {IN_PERIOD} AND {IN_SLICE}
GROUP BY 1 ORDER BY 1
"""


_STAGES = f"""
SELECT cs.stage, count(*) FROM crm_customer_scores cs
WHERE cs.tenant_id = %(tenant)s AND cs.stage <> ''
  AND (%(channel)s = '' AND %(country)s = '' OR cs.profile_id IN ({SLICE_CUSTOMERS}))
GROUP BY 1
"""

_TIERS = f"""
SELECT t.tier, count(*) FROM crm_tier_status t
WHERE t.tenant_id = %(tenant)s
  AND (%(channel)s = '' AND %(country)s = '' OR t.profile_id IN ({SLICE_CUSTOMERS}))
GROUP BY 1
"""

# Flows started in the period; the channel is the cart's, the country the customer's.
_RECOVERY = """
SELECT count(*),
  count(*) FILTER (WHERE EXISTS (
    SELECT 1 FROM crm_recovery_step s WHERE s.flow_id = f.id AND s.sent_at IS NOT NULL)),
  count(*) FILTER (WHERE f.status = 'recovered'),
  COALESCE(sum(f.recovered_base_minor) FILTER (WHERE f.status = 'recovered'), 0)
FROM crm_recovery_flow f JOIN crm_profile p ON p.id = f.profile_id
WHERE f.tenant_id = %(tenant)s AND f.started_at >= %(start)s AND f.started_at < %(end)s
  AND (%(channel)s = '' OR f.channel = %(channel)s)
  AND (%(country)s = '' OR p.country = %(country)s)
"""


def _one(sql: str, values: dict[str, Any]) -> tuple[Any, ...]:
    with analytics_connection().cursor() as cur:
        cur.execute(sql, values)
        row = cur.fetchone()
    assert row is not None  # aggregates without GROUP BY always return a row
    return tuple(row)


def _counts(sql: str, values: dict[str, Any]) -> dict[str, int]:
    with analytics_connection().cursor() as cur:
        cur.execute(sql, values)
        return {str(k): int(n) for k, n in cur.fetchall()}


def _next(day: date, interval: str) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets(where: Slice, interval: str) -> list[tuple[date, datetime]]:
    """Every local day, week (from Monday) or month the period touches, empty ones included,
    with the moment it ends (local midnight, or the period's end if sooner)."""
    if interval not in INTERVALS:
        raise InvalidReport(f"interval is one of {', '.join(INTERVALS)}.", field="interval")
    zone = where.start.tzinfo
    first = where.start.date()
    if interval == "week":
        first -= timedelta(days=first.weekday())
    elif interval == "month":
        first = first.replace(day=1)
    found = []
    current = first
    while datetime.combine(current, time(), zone) < where.end:
        following = _next(current, interval)
        found.append((current, min(datetime.combine(following, time(), zone), where.end)))
        current = following
    return found


def series(tenant: Tenant, where: Slice, interval: str = "month") -> list[Bucket]:
    """Customers, new customers, orders and revenue per local day, week or month."""
    steps = buckets(where, interval)
    starts = [datetime.combine(day, time(), where.start.tzinfo) for day, _ in steps]
    with analytics_connection().cursor() as cur:
        cur.execute(_SERIES, params(tenant, where, starts=starts))
        found = {int(k): [int(x) for x in figures] for k, *figures in cur.fetchall()}
    return [
        Bucket(day, *found[k]) if k in found else Bucket(day, 0, 0, 0, 0, 0)
        for k, (day, _) in enumerate(steps, start=1)
    ]


# The average predicted 12-month value (predictions/) of the period's customers in the slice.
_PREDICTED = f"""
SELECT round(avg(p.value_12m_minor))::bigint FROM crm_customer_prediction p
WHERE p.tenant_id = %(tenant)s AND p.profile_id IN (
  SELECT o.profile_id FROM crm_order o WHERE {PURCHASE} AND {IN_PERIOD} AND {IN_SLICE})
"""


class Report:
    """The KPIs of one slice as of ``now``, each figure computed when first asked for (one
    statement each, in a transaction with report settings), so a chart of revenue does not pay
    for churn. Stages and tiers are the current ones; the stage chart reads the stored stage
    history where it is complete (tiers keep none).

    Figures of other capabilities (predicted value, campaign response) are read from them.
    """

    def __init__(self, tenant: Tenant, where: Slice, now: datetime, interval: str = "month"):
        self.tenant, self.where, self.now, self.interval = tenant, where, now, interval
        self.buckets = buckets(where, interval)  # checks the interval before anything runs
        self.values = params(tenant, where)

    @cached_property
    def summary(self) -> Summary:
        with reporting():
            row = [int(x) for x in _one(_SUMMARY, self.values)]
        orders, revenue, refunded, customers, new, repeat, value = row
        return Summary(
            self.tenant.base_currency, customers, new, repeat, orders, revenue, refunded, value
        )

    @cached_property
    def _begun(self) -> list[tuple[date, datetime]]:
        return [
            (day, min(end, self.now))
            for day, end in self.buckets
            if datetime.combine(day, time(), self.where.start.tzinfo) < self.now
        ]

    @cached_property
    def _lifecycle(self) -> tuple[list[StagePoint], Churn]:
        with reporting():
            return lifecycle_pass(self.tenant, self.where, self._begun, self.now)

    @property
    def churn(self) -> Churn:
        return self._lifecycle[1]

    @cached_property
    def recovery(self) -> Recovery:
        with reporting():
            started, reminded, recovered, revenue = _one(_RECOVERY, self.values)
        return Recovery(int(started), int(reminded), int(recovered), int(revenue))

    @cached_property
    def stages(self) -> dict[str, int]:
        with reporting():
            return _counts(_STAGES, self.values)

    @cached_property
    def tiers(self) -> dict[str, int]:
        with reporting():
            return _counts(_TIERS, self.values)

    @cached_property
    def series(self) -> list[Bucket]:
        with reporting():
            return series(self.tenant, self.where, self.interval)

    @cached_property
    def predicted_value_minor(self) -> int | None:
        """None until the store's predictions have been computed (``saleor-crm recompute``)."""
        with reporting():
            (value,) = _one(_PREDICTED, self.values)
        return None if value is None else int(value)

    @cached_property
    def campaign_response(self) -> list[CampaignResponse]:
        """Campaigns launched in the period (in the slice's channel when it has one), with the
        orders attributed to each. Few rows: one response statement per campaign."""
        from ..campaigns.models import Campaign
        from ..campaigns.queries import response

        launched = Campaign.objects.filter(
            tenant=self.tenant,
            launched_at__gte=self.where.start,
            launched_at__lt=self.where.end,
        ).select_related("segment")
        if self.where.channel:
            launched = launched.filter(store_channel=self.where.channel)
        found = []
        for campaign in launched.order_by("launched_at", "id"):
            whole = response(campaign)[0]
            audience = (
                campaign.segment.name
                if campaign.segment is not None
                else f"{campaign.target_kind}:{campaign.target_value}"
            )
            found.append(
                CampaignResponse(
                    campaign.pk,
                    campaign.name,
                    audience,
                    campaign.audience_count,
                    whole.responders,
                    whole.orders,
                    whole.revenue_minor,
                )
            )
        return found

    @cached_property
    def stage_series(self) -> list[StagePoint]:
        """From the stored stage history where it is complete (cheap: a few rows per customer),
        rebuilt from the orders before that (docs/kpis.md)."""
        since = history_since(self.tenant)
        begun = self._begun
        recorded = [p for p in begun if since is not None and p[1] >= since]
        if len(recorded) == len(begun):
            with reporting():
                return history_chart(self.tenant, self.where, recorded)
        older = self._lifecycle[0][: len(begun) - len(recorded)]
        with reporting():
            return older + history_chart(self.tenant, self.where, recorded)

    @cached_property
    def revenue_by_flow(self) -> list[FlowRevenue]:
        return revenue_by_flow(self.tenant, self.where)

    @cached_property
    def rfm_grid(self) -> RfmGrid:
        return rfm_grid(self.tenant, self.where)

    def everything(self) -> Kpis:
        return Kpis(
            **vars(self.summary),
            churn=self.churn,
            recovery=self.recovery,
            stages=self.stages,
            tiers=self.tiers,
            series=self.series,
            stage_series=self.stage_series,
            predicted_value_minor=self.predicted_value_minor,
            campaign_response=self.campaign_response,
        )


def kpis(tenant: Tenant, where: Slice, now: datetime, interval: str = "month") -> Kpis:
    """Every KPI of the slice as of ``now`` (see ``Report``)."""
    return Report(tenant, where, now, interval).everything()

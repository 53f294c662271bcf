"""KPI report types. Money is in the store's base currency unless the field says otherwise."""

from __future__ import annotations

from typing import Any

import graphene

from ...kpis import types as k
from ...kpis.queries import Report
from ..core.money import CRMMoney, money


def _money(amount: int | None, currency: str) -> CRMMoney | None:
    return None if amount is None else money(amount, currency)


def _rate(value: Any) -> float | None:
    return None if value is None else float(value)


class CRMKpiInterval(graphene.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class CRMPeriodInput(graphene.InputObjectType):
    from_ = graphene.Date(required=True, name="from", description="First local day, included.")
    to = graphene.Date(required=True, description="Local day after the last, not included.")


class CRMCount(graphene.ObjectType):
    name = graphene.String(required=True)
    customers = graphene.Int(required=True)


class CRMChurn(graphene.ObjectType):
    churned = graphene.Int(required=True, description="Customers who became lost in the period.")
    could_churn = graphene.Int(
        required=True, description="Customers not lost at the start, or who bought in the period."
    )
    rate = graphene.Float(description="churned / couldChurn; null when couldChurn is 0.")


class CRMRecoveryKpis(graphene.ObjectType):
    started = graphene.Int(required=True, description="Recovery flows started in the period.")
    reminded = graphene.Int(required=True, description="Of those, flows with a reminder sent.")
    recovered = graphene.Int(required=True)
    rate = graphene.Float(description="recovered / reminded; null when none was reminded.")
    revenue = graphene.Field(CRMMoney, required=True, description="Recovered orders' totals.")


class CRMKpiCampaignResponse(graphene.ObjectType):
    campaign_id = graphene.ID(required=True)
    campaign_name = graphene.String(required=True)
    audience = graphene.String(
        required=True, description='The segment\'s name, or e.g. "rfm_group:at_risk".'
    )
    recipients = graphene.Int(required=True)
    responders = graphene.Int(required=True, description="Recipients who ordered in the window.")
    orders = graphene.Int(required=True)
    rate = graphene.Float(description="responders / recipients.")
    revenue = graphene.Field(CRMMoney, required=True, description="Attributed orders' totals.")


class CRMFlowRevenue(graphene.ObjectType):
    flow = graphene.String(
        required=True,
        description="checkout or browse (recovery), or the message kind: campaign, win_back, "
        "post_purchase, welcome, tier_changed, points_expiring.",
    )
    step = graphene.Int(description="The recovery reminder that led to the orders, from 1.")
    campaign_id = graphene.ID(description="The campaign, for flow campaign.")
    campaign_name = graphene.String()
    orders = graphene.Int(required=True)
    customers = graphene.Int(required=True)
    revenue = graphene.Field(CRMMoney, required=True, description="Orders' gross totals.")


class CRMRfmCell(graphene.ObjectType):
    recency = graphene.Int(required=True, description="R score, 5 the most recent.")
    frequency_monetary = graphene.Int(
        required=True, description="FM score: (F + M + 1) / 2 rounded down, 5 the highest."
    )
    group = graphene.String(required=True, description="The RFM group of the cell.")
    customers = graphene.Int(required=True)


class CRMRfmGrid(graphene.ObjectType):
    cells = graphene.List(
        graphene.NonNull(CRMRfmCell), required=True, description="All 25, recency 5 first."
    )
    groups = graphene.List(
        graphene.NonNull(CRMCount), required=True, description="Customers per RFM group."
    )


class CRMKpiBucket(graphene.ObjectType):
    starts = graphene.Date(required=True, description="First local day of the bucket.")
    customers = graphene.Int(required=True)
    new_customers = graphene.Int(required=True)
    returning_customers = graphene.Int(required=True)
    orders = graphene.Int(required=True)
    revenue = graphene.Field(CRMMoney, required=True)
    refunded = graphene.Field(CRMMoney, required=True)
    average_order_value = graphene.Field(CRMMoney)

    @staticmethod
    def from_bucket(b: k.Bucket, currency: str) -> CRMKpiBucket:
        return CRMKpiBucket(
            starts=b.starts,
            customers=b.customers,
            new_customers=b.new_customers,
            returning_customers=b.returning_customers,
            orders=b.orders,
            revenue=money(b.revenue_minor, currency),
            refunded=money(b.refunded_minor, currency),
            average_order_value=_money(b.average_order_minor, currency),
        )


class CRMStagePoint(graphene.ObjectType):
    starts = graphene.Date(required=True, description="First local day of the bucket.")
    at = graphene.DateTime(
        required=True, description="The moment counted: the bucket's end or now."
    )
    stages = graphene.List(graphene.NonNull(CRMCount), required=True)


class CRMKpis(graphene.ObjectType):
    currency = graphene.String(required=True, description="The store's base currency.")
    time_zone = graphene.String(required=True)
    customers = graphene.Int(required=True, description="Customers who bought in the period.")
    new_customers = graphene.Int(required=True, description="Their first purchase ever in it.")
    returning_customers = graphene.Int(required=True)
    orders = graphene.Int(required=True)
    revenue = graphene.Field(CRMMoney, required=True, description="Gross, FX at order time.")
    refunded = graphene.Field(CRMMoney, required=True)
    net_revenue = graphene.Field(CRMMoney, required=True)
    average_order_value = graphene.Field(CRMMoney, description="revenue / orders.")
    repeat_purchase_rate = graphene.Float(
        description="Share of the period's customers with 2 or more purchases ever."
    )
    historical_customer_value = graphene.Field(
        CRMMoney, description="Average net spend ever of the period's customers."
    )
    predicted_customer_value = graphene.Field(
        CRMMoney,
        description="Average predicted 12-month value of the period's customers; null until "
        "predictions are computed.",
    )
    churn = graphene.Field(CRMChurn, required=True)
    stages = graphene.List(
        graphene.NonNull(CRMCount), required=True, description="Customers by lifecycle stage now."
    )
    tiers = graphene.List(
        graphene.NonNull(CRMCount), required=True, description="Customers by loyalty tier now."
    )
    recovery = graphene.Field(CRMRecoveryKpis, required=True)
    campaign_response = graphene.List(
        graphene.NonNull(CRMKpiCampaignResponse),
        required=True,
        description="Campaigns launched in the period, by audience "
        "(CRM_CAMPAIGN_ATTRIBUTION_DAYS).",
    )
    series = graphene.List(
        graphene.NonNull(CRMKpiBucket), required=True, description="Per day, week or month."
    )
    revenue_by_flow = graphene.List(
        graphene.NonNull(CRMFlowRevenue),
        required=True,
        description="The period's purchases credited to the flow that led to them, once each "
        "(last touch; see docs/kpis.md), largest revenue first.",
    )
    rfm_grid = graphene.Field(
        CRMRfmGrid,
        required=True,
        description="Customers per recency x FM score cell and per RFM group, now.",
    )

    stage_series = graphene.List(
        graphene.NonNull(CRMStagePoint),
        required=True,
        description="Customers by lifecycle stage at the end of each bucket, rebuilt from the "
        "orders (see docs/kpis.md); none for buckets that have not begun.",
    )


class KpiView:
    """What ``CRMKpis`` resolves from: every field reads the ``Report`` only when the query asks
    for it, so each figure's statement runs only if selected."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.currency = report.tenant.base_currency
        self.time_zone = report.where.time_zone

    def _m(self, amount: int | None) -> CRMMoney | None:
        return _money(amount, self.currency)

    def _summary(self) -> k.Summary:
        return self.report.summary

    customers = property(lambda self: self._summary().customers)
    new_customers = property(lambda self: self._summary().new_customers)
    returning_customers = property(lambda self: self._summary().returning_customers)
    orders = property(lambda self: self._summary().orders)
    revenue = property(lambda self: self._m(self._summary().revenue_minor))
    refunded = property(lambda self: self._m(self._summary().refunded_minor))
    net_revenue = property(lambda self: self._m(self._summary().net_revenue_minor))
    average_order_value = property(lambda self: self._m(self._summary().average_order_minor))
    repeat_purchase_rate = property(lambda self: _rate(self._summary().repeat_purchase_rate))
    historical_customer_value = property(
        lambda self: self._m(self._summary().historical_value_minor)
    )
    predicted_customer_value = property(lambda self: self._m(self.report.predicted_value_minor))

    @property
    def campaign_response(self) -> list[CRMKpiCampaignResponse]:
        return [
            CRMKpiCampaignResponse(
                campaign_id=graphene.Node.to_global_id("CRMCampaign", c.campaign_id),
                campaign_name=c.campaign_name,
                audience=c.audience,
                recipients=c.recipients,
                responders=c.responders,
                orders=c.orders,
                rate=c.rate,
                revenue=self._m(c.revenue_minor),
            )
            for c in self.report.campaign_response
        ]

    @property
    def churn(self) -> CRMChurn:
        c = self.report.churn
        return CRMChurn(churned=c.churned, could_churn=c.could_churn, rate=_rate(c.rate))

    @property
    def stages(self) -> list[CRMCount]:
        return [CRMCount(name=s, customers=n) for s, n in sorted(self.report.stages.items())]

    @property
    def tiers(self) -> list[CRMCount]:
        return [CRMCount(name=t, customers=n) for t, n in sorted(self.report.tiers.items())]

    @property
    def recovery(self) -> CRMRecoveryKpis:
        r = self.report.recovery
        return CRMRecoveryKpis(
            started=r.started,
            reminded=r.reminded,
            recovered=r.recovered,
            rate=_rate(r.rate),
            revenue=money(r.revenue_minor, self.currency),
        )

    @property
    def revenue_by_flow(self) -> list[CRMFlowRevenue]:
        return [
            CRMFlowRevenue(
                flow=f.flow,
                step=f.step,
                campaign_id=None
                if f.campaign_id is None
                else graphene.Node.to_global_id("CRMCampaign", f.campaign_id),
                campaign_name=f.campaign_name or None,
                orders=f.orders,
                customers=f.customers,
                revenue=money(f.revenue_minor, self.currency),
            )
            for f in self.report.revenue_by_flow
        ]

    @property
    def rfm_grid(self) -> CRMRfmGrid:
        g = self.report.rfm_grid
        return CRMRfmGrid(
            cells=[
                CRMRfmCell(
                    recency=c.recency, frequency_monetary=c.fm, group=c.group, customers=c.customers
                )
                for c in g.cells
            ],
            groups=[CRMCount(name=name, customers=n) for name, n in g.groups.items()],
        )

    @property
    def series(self) -> list[CRMKpiBucket]:
        return [CRMKpiBucket.from_bucket(b, self.currency) for b in self.report.series]

    @property
    def stage_series(self) -> list[CRMStagePoint]:
        return [
            CRMStagePoint(
                starts=p.starts,
                at=p.at,
                stages=[CRMCount(name=s, customers=n) for s, n in sorted(p.stages.items())],
            )
            for p in self.report.stage_series
        ]


class CRMCohortCell(graphene.ObjectType):
    months_since = graphene.Int(required=True, description="0 is the first-purchase month.")
    customers = graphene.Int(required=True, description="Of the cohort, who bought that month.")
    share = graphene.Float(required=True)


class CRMCohort(graphene.ObjectType):
    month = graphene.Date(required=True, description="First local day of the cohort's month.")
    customers = graphene.Int(required=True)
    retention = graphene.List(graphene.NonNull(CRMCohortCell), required=True)

    @staticmethod
    def from_cohort(c: k.Cohort) -> CRMCohort:
        return CRMCohort(
            month=c.month,
            customers=c.customers,
            retention=[
                CRMCohortCell(months_since=x.months_since, customers=x.customers, share=x.share)
                for x in c.cells
            ],
        )


class CRMCurrencyRevenue(graphene.ObjectType):
    month = graphene.Date(description="First local day of the month; null for the period.")
    currency = graphene.String(required=True)
    orders = graphene.Int(required=True)
    revenue = graphene.Field(CRMMoney, required=True, description="In the order currency.")
    at_order_rates = graphene.Field(CRMMoney, required=True, description="Base, FX at order time.")
    at_todays_rates = graphene.Field(CRMMoney, description="Base, today's rate; null without one.")
    difference = graphene.Field(CRMMoney, description="atTodaysRates - atOrderRates.")

    @staticmethod
    def from_exposure(e: k.Exposure, base: str) -> CRMCurrencyRevenue:
        return CRMCurrencyRevenue(
            month=e.month,
            currency=e.currency,
            orders=e.orders,
            revenue=money(e.revenue_minor, e.currency),
            at_order_rates=money(e.at_order_minor, base),
            at_todays_rates=_money(e.at_today_minor, base),
            difference=_money(e.difference_minor, base),
        )


class CRMRate(graphene.ObjectType):
    currency = graphene.String(required=True)
    rate = graphene.String(required=True, description="Base units per unit, exact decimal.")


class CRMCurrencyExposure(graphene.ObjectType):
    currency = graphene.String(required=True, description="The store's base currency.")
    rates_at = graphene.DateTime(required=True)
    todays_rates = graphene.List(graphene.NonNull(CRMRate), required=True)
    totals = graphene.List(graphene.NonNull(CRMCurrencyRevenue), required=True)
    months = graphene.List(graphene.NonNull(CRMCurrencyRevenue), required=True)

    @staticmethod
    def from_exposure(e: k.CurrencyExposure) -> CRMCurrencyExposure:
        return CRMCurrencyExposure(
            currency=e.currency,
            rates_at=e.rates_at,
            todays_rates=[
                CRMRate(currency=c, rate=str(r)) for c, r in sorted(e.today_rates.items())
            ],
            totals=[CRMCurrencyRevenue.from_exposure(x, e.currency) for x in e.totals],
            months=[CRMCurrencyRevenue.from_exposure(x, e.currency) for x in e.months],
        )

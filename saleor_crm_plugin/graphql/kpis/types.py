"""KPI report types. Money is in the store's base currency unless the field says otherwise."""

from __future__ import annotations

from typing import Any

import graphene

from ...kpis import types as k
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


class CRMCampaignResponse(graphene.ObjectType):
    segment_id = graphene.ID(required=True)
    segment_name = graphene.String(required=True)
    recipients = graphene.Int(required=True)
    responders = graphene.Int(required=True)
    rate = graphene.Float()
    revenue = graphene.Field(CRMMoney, required=True)


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
        CRMMoney, description="Average predicted 12-month value; null until predictions exist."
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
        graphene.NonNull(CRMCampaignResponse),
        description="Per segment; null until campaigns exist.",
    )
    series = graphene.List(
        graphene.NonNull(CRMKpiBucket), required=True, description="Per day, week or month."
    )

    stage_series = graphene.List(
        graphene.NonNull(CRMStagePoint),
        required=True,
        description="Customers by lifecycle stage at the end of each bucket, rebuilt from the "
        "orders (see docs/kpis.md); none for buckets that have not begun.",
    )

    @staticmethod
    def from_kpis(found: k.Kpis, time_zone: str) -> CRMKpis:
        c = found.currency
        return CRMKpis(
            currency=c,
            time_zone=time_zone,
            customers=found.customers,
            new_customers=found.new_customers,
            returning_customers=found.returning_customers,
            orders=found.orders,
            revenue=money(found.revenue_minor, c),
            refunded=money(found.refunded_minor, c),
            net_revenue=money(found.net_revenue_minor, c),
            average_order_value=_money(found.average_order_minor, c),
            repeat_purchase_rate=_rate(found.repeat_purchase_rate),
            historical_customer_value=_money(found.historical_value_minor, c),
            predicted_customer_value=_money(found.predicted_value_minor, c),
            churn=CRMChurn(
                churned=found.churn.churned,
                could_churn=found.churn.could_churn,
                rate=_rate(found.churn.rate),
            ),
            stages=[CRMCount(name=s, customers=n) for s, n in sorted(found.stages.items())],
            tiers=[CRMCount(name=t, customers=n) for t, n in sorted(found.tiers.items())],
            recovery=CRMRecoveryKpis(
                started=found.recovery.started,
                reminded=found.recovery.reminded,
                recovered=found.recovery.recovered,
                rate=_rate(found.recovery.rate),
                revenue=money(found.recovery.revenue_minor, c),
            ),
            campaign_response=None,
            series=[CRMKpiBucket.from_bucket(b, c) for b in found.series],
            stage_series=[
                CRMStagePoint(
                    starts=p.starts,
                    at=p.at,
                    stages=[CRMCount(name=s, customers=n) for s, n in sorted(p.stages.items())],
                )
                for p in found.stage_series
            ],
        )


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

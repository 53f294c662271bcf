"""KPIs, cohorts and currency exposure through GraphQL, on the hand-built store of tests/kpis,
and the customer list filtered by RFM group and lifecycle stage."""

from __future__ import annotations

import graphene
import pytest
from django.utils import timezone

from saleor_crm_plugin.models import LifecycleSettings
from saleor_crm_plugin.segments.scores import recompute
from tests.graphql.segments.test_segments import run, staff
from tests.kpis.store import NOW, build_store

pytestmark = pytest.mark.django_db

Q1 = {"from": "2026-01-01", "to": "2026-04-01"}


@pytest.fixture
def store(tenant, settings, monkeypatch):
    settings.CRM_STORE_TIME_ZONE = "Asia/Tokyo"
    build_store(tenant)
    monkeypatch.setattr(timezone, "now", lambda: NOW)  # a frozen clock for the resolvers
    return tenant


KPIS = """query ($p: CRMPeriodInput!, $c: String, $tz: String) {
  crmKpis(period: $p, country: $c, timeZone: $tz) {
    currency timeZone customers newCustomers returningCustomers orders
    revenue { amount currency } netRevenue { amount } averageOrderValue { amount }
    repeatPurchaseRate historicalCustomerValue { amount } predictedCustomerValue { amount }
    churn { churned couldChurn rate } campaignResponse { campaignName audience responders }
    recovery { started rate revenue { amount } }
    series { starts customers newCustomers returningCustomers revenue { amount } }
    stageSeries { starts stages { name customers } }
  } }"""


def test_quarter_kpis_in_the_stores_time_zone(store):
    data, errors = run(staff(store), KPIS, p=Q1)
    assert errors == []
    k = data["crmKpis"]
    assert k["currency"] == "EUR" and k["timeZone"] == "Asia/Tokyo"
    # Figures worked out in tests/kpis/test_kpis.py.
    assert (k["customers"], k["newCustomers"], k["returningCustomers"], k["orders"]) == (5, 4, 1, 7)
    assert k["revenue"] == {"amount": 695.0, "currency": "EUR"}
    assert k["netRevenue"] == {"amount": 645.0}
    assert k["averageOrderValue"] == {"amount": 99.29}
    assert k["repeatPurchaseRate"] == 0.6
    assert k["historicalCustomerValue"] == {"amount": 141.0}
    # No predictions computed and no campaign launched yet: null and none, never made up.
    assert k["predictedCustomerValue"] is None and k["campaignResponse"] == []
    assert k["recovery"] == {"started": 0, "rate": None, "revenue": {"amount": 0.0}}
    assert [(b["starts"], b["newCustomers"], b["returningCustomers"]) for b in k["series"]] == [
        ("2026-01-01", 2, 0),
        ("2026-02-01", 1, 0),
        ("2026-03-01", 1, 3),
    ]
    # At the end of March (cadence mode, nobody recomputed yet: every gap is measured against
    # the default 60 days, so nobody is at risk before 120 days): gus, ann, cem, dan, fay.
    assert k["stageSeries"][2] == {
        "starts": "2026-03-01",
        "stages": [{"name": "active", "customers": 3}, {"name": "new", "customers": 2}],
    }
    # Asked in UTC, gus's New Year's Eve order falls in December and bob's in March.
    data, errors = run(staff(store), KPIS, p=Q1, tz="UTC")
    assert (data["crmKpis"]["orders"], data["crmKpis"]["revenue"]["amount"]) == (7, 765.0)


def test_predicted_value_is_the_average_prediction_of_the_periods_customers(store):
    from saleor_crm_plugin.models import OrderRecord
    from saleor_crm_plugin.predictions.models import CustomerPrediction

    rows = [
        (pid, 1000 * (i + 1))
        for i, pid in enumerate(
            OrderRecord.objects.values_list("profile_id", flat=True)
            .distinct()
            .order_by("profile_id")
        )
        if pid
    ]
    CustomerPrediction.objects.bulk_create(
        CustomerPrediction(
            profile_id=pid,
            tenant=store,
            method="heuristic",
            churn_risk=0.1,
            expected_orders_12m=1.0,
            expected_order_value_minor=value,
            value_12m_minor=value,
            computed_at=NOW,
        )
        for pid, value in rows
    )
    data, errors = run(staff(store), KPIS, p=Q1)
    assert errors == []
    # The quarter's customers (worked out in tests/kpis): their predictions' mean, in EUR.
    from saleor_crm_plugin.kpis.sql import NOT_PURCHASES  # the purchases the KPIs count

    quarter = set(
        OrderRecord.objects.filter(
            created_at__gte="2026-01-01T00:00:00+09:00", created_at__lt="2026-04-01T00:00:00+09:00"
        )
        .exclude(status__in=NOT_PURCHASES)
        .values_list("profile_id", flat=True)
    )
    values = [v for pid, v in rows if pid in quarter]
    assert len(values) == data["crmKpis"]["customers"] == 5
    assert data["crmKpis"]["predictedCustomerValue"] == {"amount": round(sum(values) / 5) / 100}


def test_bad_input_is_refused_with_the_argument_named(store):
    data, errors = run(staff(store), KPIS, p={"from": "2026-04-01", "to": "2026-01-01"})
    assert data is None and errors[0]["field"] == "period"
    data, errors = run(staff(store), KPIS, p=Q1, tz="Europe/Atlantis")
    assert errors[0]["field"] == "timeZone"
    data, errors = run(staff(store), KPIS, p=Q1, c="Deutschland")
    assert errors[0]["field"] == "country"


def test_cohorts_and_currency_exposure(store):
    data, errors = run(
        staff(store),
        "query ($p: CRMPeriodInput!) { crmCohorts(period: $p) { month customers"
        " retention { monthsSince share } } }",
        p=Q1,
    )
    assert errors == []
    assert data["crmCohorts"][0] == {
        "month": "2026-01-01",
        "customers": 2,
        "retention": [
            {"monthsSince": 0, "share": 1.0},
            {"monthsSince": 1, "share": 0.0},
            {"monthsSince": 2, "share": 0.5},
            {"monthsSince": 3, "share": 0.5},
            {"monthsSince": 4, "share": 0.0},
        ],
    }
    data, errors = run(
        staff(store),
        "query ($p: CRMPeriodInput!) { crmCurrencyExposure(period: $p) { currency"
        " todaysRates { currency rate } totals { currency orders revenue { amount currency }"
        " atOrderRates { amount } atTodaysRates { amount } difference { amount } } } }",
        p=Q1,
    )
    assert errors == []
    found = data["crmCurrencyExposure"]
    assert {"currency": "KWD", "rate": "3.125"} in found["todaysRates"]
    assert {t["currency"]: t for t in found["totals"]}["KWD"] == {
        "currency": "KWD",
        "orders": 1,
        "revenue": {"amount": 10.0, "currency": "KWD"},
        "atOrderRates": {"amount": 25.0},
        "atTodaysRates": {"amount": 31.25},
        "difference": {"amount": 6.25},
    }
    assert {t["currency"]: t for t in found["totals"]}["JPY"]["difference"] == {"amount": -60.0}


CUSTOMERS = """query ($f: CRMCustomerFilterInput) {
  crmCustomers(first: 20, filter: $f, sortBy: {field: SPENT, direction: DESC}) {
    totalCount edges { node { email } } } }"""


def test_customers_filtered_by_lifecycle_stage_and_rfm_group(store):
    LifecycleSettings.objects.create(
        tenant=store, mode="days", at_risk_after=20, dormant_after=40, lost_after=60
    )
    recompute(store, NOW)

    def emails(**f):
        data, errors = run(staff(store), CUSTOMERS, f=f)
        assert errors == []
        return [e["node"]["email"] for e in data["crmCustomers"]["edges"]]

    # Days since the last purchase on May 15: cem 61, dan 71, gus 135 (lost), fay 51 (dormant).
    assert emails(stages=["lost"]) == ["cem@example.jp", "gus@example.at", "dan@example.kw"]
    assert emails(stages=["dormant", "lost"], countries=["JP", "DE"]) == [
        "cem@example.jp",
        "fay@example.de",
    ]
    # eve's only order was cancelled: a prospect.
    assert emails(rfmGroups=["prospects"]) == ["eve@example.de"]
    data, errors = run(staff(store), CUSTOMERS, f={"rfmGroups": ["champions", "vip"]})
    assert data is None
    assert errors[0]["field"] == "rfmGroups" and "vip" in errors[0]["message"]


def test_only_the_figures_asked_for_are_computed(store):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as revenue_only:
        data, errors = run(staff(store), "{ crmKpis(period: {from: \"2026-01-01\", "
                           "to: \"2026-04-01\"}) { revenue { amount } orders } }")  # fmt: skip
    assert errors == [] and data["crmKpis"] == {"revenue": {"amount": 695.0}, "orders": 7}
    statements = [q["sql"] for q in revenue_only.captured_queries]
    assert sum("per_customer" in s for s in statements) == 1  # revenue and orders: one query
    assert not any("lead(" in s for s in statements)  # no churn, no stage chart


def test_weekly_charts(store):
    data, errors = run(
        staff(store),
        '{ crmKpis(period: {from: "2026-02-09", to: "2026-02-23"}, interval: WEEK) '
        "{ series { starts orders } } }",
    )
    assert errors == []
    assert data["crmKpis"]["series"] == [
        {"starts": "2026-02-09", "orders": 1},  # cem, Feb 10
        {"starts": "2026-02-16", "orders": 0},
    ]


FLOWS = """query ($p: CRMPeriodInput!, $c: String) {
  crmKpis(period: $p, country: $c) {
    revenueByFlow { flow step campaignId campaignName orders customers revenue { amount currency } }
    rfmGrid { cells { recency frequencyMonetary group customers } groups { name customers } }
  } }"""


def test_revenue_by_flow_and_rfm_grid(store):
    from tests.kpis.test_flows_and_rfm import _touches

    spring = _touches(store)
    recompute(store, NOW)
    data, errors = run(staff(store), FLOWS, p=Q1)
    assert errors == []
    flows = data["crmKpis"]["revenueByFlow"]
    assert [(f["flow"], f["step"], f["campaignName"], f["revenue"]) for f in flows] == [
        ("campaign", None, "Spring", {"amount": 200.0, "currency": "EUR"}),
        ("checkout", 2, None, {"amount": 200.0, "currency": "EUR"}),
        ("win_back", None, None, {"amount": 100.0, "currency": "EUR"}),
    ]
    assert flows[0]["campaignId"] == graphene.Node.to_global_id("CRMCampaign", spring.pk)
    grid = data["crmKpis"]["rfmGrid"]
    assert len(grid["cells"]) == 25 and sum(c["customers"] for c in grid["cells"]) == 6
    assert {g["name"]: g["customers"] for g in grid["groups"]}["prospects"] == 1
    data, errors = run(staff(store), FLOWS, p=Q1, c="DE")
    assert [f["flow"] for f in data["crmKpis"]["revenueByFlow"]] == ["checkout"]
    assert sum(c["customers"] for c in data["crmKpis"]["rfmGrid"]["cells"]) == 2


def test_customers_filtered_by_loyalty_tier(store):
    from saleor_crm_plugin.loyalty.models import TierStatus
    from saleor_crm_plugin.models import Profile

    for email, tier in (("ann@example.de", "Gold"), ("cem@example.jp", "Silver"),
                        ("fay@example.de", "Silver")):  # fmt: skip
        TierStatus.objects.create(
            tenant=store, profile=Profile.objects.get(email=email), tier=tier,
            since=NOW, program_version=1,
        )  # fmt: skip
    data, errors = run(staff(store), CUSTOMERS, f={"tiers": ["Silver"]})
    assert errors == []
    assert [e["node"]["email"] for e in data["crmCustomers"]["edges"]] == [
        "cem@example.jp",
        "fay@example.de",
    ]
    data, errors = run(
        staff(store), CUSTOMERS, f={"tiers": ["Gold", "Silver"], "countries": ["DE"]}
    )
    assert data["crmCustomers"]["totalCount"] == 2
    data, errors = run(staff(store), CUSTOMERS, f={"tiers": ["Platinum"]})
    assert data["crmCustomers"] == {"totalCount": 0, "edges": []}

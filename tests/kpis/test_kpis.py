"""KPIs, cohorts and currency exposure of the hand-built store (store.py), worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from saleor_crm_plugin.kpis.cohorts import cohorts
from saleor_crm_plugin.kpis.errors import InvalidReport
from saleor_crm_plugin.kpis.exposure import currency_exposure
from saleor_crm_plugin.kpis.queries import kpis, series
from saleor_crm_plugin.kpis.types import Bucket, Slice
from saleor_crm_plugin.loyalty.models import TierStatus
from saleor_crm_plugin.models import (
    LifecycleSettings,
    Profile,
    RecoveryFlow,
    RecoveryStep,
)
from saleor_crm_plugin.segments.scores import recompute

from .store import NOW, TOKYO, at, build_store, place

pytestmark = pytest.mark.django_db

Q1 = Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO)


@pytest.fixture
def store(tenant):
    build_store(tenant)
    return tenant


def test_quarter_figures_in_the_stores_time_zone(store):
    # Q1 in Tokyo: gus (Jan 1 01:00 local) is in, bob (Apr 1 05:00 local) is out, eve's order
    # was cancelled. Orders: gus 30, ann 100 + 200, cem 100 + 200, dan 25, fay 40 EUR.
    found = kpis(store, Q1, NOW)
    assert (found.customers, found.new_customers, found.returning_customers) == (5, 4, 1)
    assert found.orders == 7
    assert found.revenue_minor == 69500
    assert found.refunded_minor == 5000  # on ann's March order
    assert found.net_revenue_minor == 64500
    assert found.average_order_minor == 9929  # 695 / 7 = 99.2857
    # ann, cem (2 in the quarter) and fay (Dec + Mar) have 2 purchases; gus and dan one.
    assert found.repeat_purchase_rate == Decimal("0.6")
    # Net spend ever before Apr 1: gus 30, ann 250, cem 300, dan 25, fay 100 = 705 / 5.
    assert found.historical_value_minor == 14100
    assert found.predicted_value_minor is None
    assert found.campaign_response == []  # no campaign launched
    # In UTC the quarter loses gus (Dec 31 16:00 UTC) and gains bob (Mar 31 20:00 UTC).
    utc = kpis(store, Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), "UTC"), NOW)
    assert (utc.customers, utc.new_customers, utc.orders, utc.revenue_minor) == (5, 4, 7, 76500)


def test_monthly_series_splits_new_from_returning(store):
    assert kpis(store, Q1, NOW).series == [
        Bucket(date(2026, 1, 1), 2, 2, 2, 13000, 0),  # gus, ann: both first purchases
        Bucket(date(2026, 2, 1), 1, 1, 1, 10000, 0),  # cem
        Bucket(date(2026, 3, 1), 4, 1, 4, 46500, 5000),  # ann, cem, fay return; dan is new
    ]
    weeks = series(store, Slice.of_days(date(2026, 2, 9), date(2026, 2, 23), TOKYO), "week")
    assert weeks == [
        Bucket(date(2026, 2, 9), 1, 1, 1, 10000, 0),  # Monday Feb 9: cem
        Bucket(date(2026, 2, 16), 0, 0, 0, 0, 0),  # nothing sold, still a point on the chart
    ]


def test_a_period_starting_mid_month_charts_the_whole_local_month(store):
    # March 12-31 in Tokyo: cem (Mar 15), fay (Mar 25) and dan, whose first purchase ever
    # (Mar 5) is in the same local month though before the period: new in March. ann's Mar 10
    # order is before the period, bob's Mar 31 20:00 UTC is April in Tokyo.
    place(store, "dan-2", "dan@example.kw", 1000, "EUR", at(2026, 3, 20), "KW")
    where = Slice.of_days(date(2026, 3, 12), date(2026, 4, 1), TOKYO)
    assert series(store, where, "month") == [Bucket(date(2026, 3, 1), 3, 1, 3, 25000, 0)]
    months = [(e.month, e.currency, e.orders, e.at_order_minor, e.at_today_minor)
              for e in currency_exposure(store, where, NOW).months]  # fmt: skip
    assert months == [
        (date(2026, 3, 1), "EUR", 2, 5000, 5000),  # fay 40 + dan 10 EUR
        (date(2026, 3, 1), "JPY", 1, 20000, 16000),  # cem 32,000 JPY
    ]


def test_channel_and_country_slices(store):
    jpy = kpis(store, Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO, "web-jpy"), NOW)
    assert (jpy.customers, jpy.new_customers, jpy.orders, jpy.revenue_minor) == (1, 1, 2, 30000)
    assert jpy.repeat_purchase_rate == Decimal("1")
    de = kpis(store, Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO, country="de"), NOW)
    # ann (new: first purchase Jan 15) and fay (returning); eve's order was cancelled.
    assert (de.customers, de.new_customers, de.orders, de.revenue_minor) == (2, 1, 3, 34000)
    nobody = kpis(store, Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO, "pos"), NOW)
    assert (nobody.customers, nobody.orders, nobody.average_order_minor) == (0, 0, None)
    assert nobody.repeat_purchase_rate is None


def test_churn_counts_customers_who_became_lost_in_the_period(store):
    LifecycleSettings.objects.create(
        tenant=store, mode="days", at_risk_after=20, dormant_after=40, lost_after=60
    )
    recompute(store, NOW)
    # Lost 60 days after a purchase with none after it. From Mar 1 (Tokyo) to now (May 15):
    # gus (Dec 31 + 60 = Mar 1 16:00 UTC), dan (Mar 5 -> May 4), cem (Mar 15 -> May 14).
    # Not ann (Apr 20), bob (May 5), fay (Mar 25 -> May 24, after now). fay was already lost
    # on Feb 8 but bought again. Could churn: all six buyers; eve never bought.
    found = kpis(store, Slice.of_days(date(2026, 3, 1), date(2026, 6, 1), TOKYO), NOW)
    assert (found.churn.churned, found.churn.could_churn, found.churn.rate) == (
        3,
        6,
        Decimal("0.5"),
    )
    # Stages now (days since the last purchase): bob 10 active, ann 25 at risk, fay 51
    # dormant, cem 61, dan 71 and gus 135 lost.
    assert found.stages == {"active": 1, "at_risk": 1, "dormant": 1, "lost": 3}
    # Stages at each month's end (Tokyo midnight, 15:00 UTC the day before), rebuilt from the
    # orders with the same thresholds; days since the last purchase before that moment:
    #  Jan 31: ann 16.1 (new), gus 31 (at risk), fay 52.1 (dormant)
    #  Feb 28: cem 18.1 (new), ann 44.1 and gus 59 (dormant), fay 80.1 (lost)
    #  Mar 31: fay 6.1 and cem 16.1 (active, second purchase), ann 21.1 and dan 26.1 (at risk),
    #          gus lost; bob's first order is at 20:00 UTC, after the moment
    #  Apr 30: ann 10.1 (active), fay 36.1 and bob 29.8 (at risk), cem 46.1 and dan 56.1
    #          (dormant), gus lost
    #  May: now (May 15 12:00 UTC), as the scores above.
    year = kpis(store, Slice.of_days(date(2026, 1, 1), date(2026, 7, 1), TOKYO), NOW)
    assert [(p.starts, p.stages) for p in year.stage_series] == [
        (date(2026, 1, 1), {"new": 1, "at_risk": 1, "dormant": 1}),
        (date(2026, 2, 1), {"new": 1, "dormant": 2, "lost": 1}),
        (date(2026, 3, 1), {"active": 2, "at_risk": 2, "lost": 1}),
        (date(2026, 4, 1), {"active": 1, "at_risk": 2, "dormant": 2, "lost": 1}),
        (date(2026, 5, 1), found.stages),
    ]  # June has not begun: no point
    assert year.stage_series[-1].at == NOW
    # Customers who bought in Japan: cem only, lost on May 14.
    jp = kpis(store, Slice.of_days(date(2026, 3, 1), date(2026, 6, 1), TOKYO, country="JP"), NOW)
    assert (jp.churn.churned, jp.churn.could_churn, jp.stages) == (1, 1, {"lost": 1})
    # Mar 31: 16.1 days after his second purchase; Apr 30: 46.1; now: 61.
    assert [p.stages for p in jp.stage_series] == [{"active": 1}, {"dormant": 1}, {"lost": 1}]
    # The same period a day earlier: cem is not lost yet.
    earlier = kpis(
        store, Slice.of_days(date(2026, 3, 1), date(2026, 6, 1), TOKYO), NOW - timedelta(days=1)
    )
    assert earlier.churn.churned == 2


def test_tiers_and_recovery(store):
    ann, cem, fay, dan, gus = (
        Profile.objects.get(email=f"{n}@example.{d}")
        for n, d in (("ann", "de"), ("cem", "jp"), ("fay", "de"), ("dan", "kw"), ("gus", "at"))
    )
    for profile, tier in ((ann, "gold"), (cem, "silver"), (fay, "silver")):
        TierStatus.objects.create(
            tenant=store, profile=profile, tier=tier, since=at(2026, 3, 1), program_version=1
        )

    def flow(profile, started, status, sent, recovered_minor=None):
        f = RecoveryFlow.objects.create(
            tenant=store, profile=profile, checkout_id=f"c-{profile.pk}-{started.day}",
            channel="web-eur", currency="EUR", checkout_updated_at=started, delays_hours=[1],
            status=status, started_at=started, recovered_base_minor=recovered_minor,
        )  # fmt: skip
        RecoveryStep.objects.create(
            flow=f, step=0, due_at=started, enqueued_at=started, sent_at=started if sent else None
        )

    flow(ann, at(2026, 3, 1), "recovered", True, 20000)
    flow(dan, at(2026, 3, 3), "finished", True)
    flow(gus, at(2026, 3, 4), "stopped", False)  # bought before any reminder went out
    flow(fay, at(2026, 4, 10), "recovered", True, 4000)  # after the quarter
    found = kpis(store, Q1, NOW)
    assert found.tiers == {"gold": 1, "silver": 2}
    r = found.recovery
    assert (r.started, r.reminded, r.recovered, r.rate, r.revenue_minor) == (
        3,
        2,
        1,
        Decimal("0.5"),
        20000,
    )
    de = kpis(store, Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO, country="DE"), NOW)
    assert de.tiers == {"gold": 1, "silver": 1}  # cem buys from Japan
    assert (de.recovery.started, de.recovery.recovered) == (1, 1)  # ann's only


def test_cohort_retention_by_first_purchase_month(store):
    found = {c.month: (c.customers, [(x.customers, x.share) for x in c.cells]) for c in cohorts(
        store, Q1, NOW)}  # fmt: skip
    half, one, zero = Decimal("0.5"), Decimal("1"), Decimal("0")
    assert found == {
        # gus and ann; ann bought again in March and April. Up to May, the current month.
        date(2026, 1, 1): (2, [(2, one), (0, zero), (1, half), (1, half), (0, zero)]),
        date(2026, 2, 1): (1, [(1, one), (1, one), (0, zero), (0, zero)]),  # cem
        date(2026, 3, 1): (1, [(1, one), (0, zero), (0, zero)]),  # dan; fay started in Dec
    }
    jpy = cohorts(store, Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO, "web-jpy"), NOW)
    assert [(c.month, c.customers) for c in jpy] == [(date(2026, 2, 1), 1)]


def test_currency_exposure_at_order_time_and_today(store):
    found = currency_exposure(store, Slice.of_days(date(2026, 1, 1), date(2026, 6, 1), TOKYO), NOW)
    assert found.today_rates == {
        "EUR": Decimal("1"),
        "JPY": Decimal("0.005"),
        "KWD": Decimal("3.125"),
        "USD": Decimal("1"),
    }
    months = [
        (e.month, e.currency, e.orders, e.revenue_minor, e.at_order_minor, e.at_today_minor)
        for e in found.months
    ]
    assert months == [
        (date(2026, 1, 1), "EUR", 2, 13000, 13000, 13000),
        (date(2026, 2, 1), "JPY", 1, 16000, 10000, 8000),
        (date(2026, 3, 1), "EUR", 2, 24000, 24000, 24000),
        (date(2026, 3, 1), "JPY", 1, 32000, 20000, 16000),
        (date(2026, 3, 1), "KWD", 1, 10000, 2500, 3125),  # 10.000 KWD
        (date(2026, 4, 1), "EUR", 1, 5000, 5000, 5000),
        (date(2026, 4, 1), "USD", 1, 12500, 10000, 12500),
        (date(2026, 5, 1), "USD", 1, 30000, 30000, 30000),
    ]
    totals = {e.currency: (e.orders, e.revenue_minor, e.difference_minor) for e in found.totals}
    assert totals == {
        "EUR": (5, 42000, 0),
        "JPY": (2, 48000, -6000),
        "KWD": (1, 10000, 625),
        "USD": (2, 42500, 2500),
    }


def test_a_currency_without_a_rate_today_is_not_guessed(store):
    place(store, "hal-1", "hal@example.jp", 5000, "JPY", at(2026, 2, 1), "JP")
    found = currency_exposure(store, Q1, at(2025, 11, 15))  # before any JPY rate
    jpy = next(e for e in found.totals if e.currency == "JPY")
    # 100 + 200 EUR (cem) + 5,000 JPY at 1/160 = 31.25 EUR (hal), fixed when they ordered.
    assert (jpy.at_order_minor, jpy.at_today_minor, jpy.difference_minor) == (33125, None, None)
    assert "JPY" not in found.today_rates


def test_bad_periods_are_refused():
    with pytest.raises(InvalidReport) as e:
        Slice.of_days(date(2026, 4, 1), date(2026, 4, 1), TOKYO)
    assert e.value.field == "period"
    with pytest.raises(InvalidReport) as e:
        Slice.of_days(date(2026, 1, 1), date(2026, 2, 1), "Mars/Olympus")
    assert e.value.field == "timeZone"
    with pytest.raises(InvalidReport) as e:
        Slice.of_days(date(2026, 1, 1), date(2026, 2, 1), "UTC", country="Germany")
    assert e.value.field == "country"

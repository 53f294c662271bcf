"""Predictions between fits: a customer's order rescores them at once with the store's stored
parameters, giving what a full scoring with those parameters gives (worked out by hand for the
heuristic, against the closed forms for BG/NBD)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.models import CustomerPrediction, PredictionModel, Profile
from saleor_crm_plugin.predictions.fitting import (
    GammaGamma,
    expected_if_alive,
    expected_order_value,
    p_alive,
)
from saleor_crm_plugin.predictions.rescore import rescore_customers
from saleor_crm_plugin.predictions.services import (
    collect_stats,
    predict_store,
    score_customers,
    stored_bgnbd,
)
from saleor_crm_plugin.segments.services import recompute_store
from tests.feedback.test_post_purchase import deliver_order, staff
from tests.segments.store import NOW, build_store, day, place

from .synthetic import ORDERS, Truth, draw_store, load_store
from .test_predictions import OPENED, predictions

pytestmark = pytest.mark.django_db(transaction=True)

FIGURES = ("method", "churn_risk", "expected_orders_12m", "expected_order_value_minor",
           "value_12m_minor", "next_order_at", "computed_at")  # fmt: skip


def figures(profile_id: int) -> tuple:
    return CustomerPrediction.objects.filter(profile_id=profile_id).values_list(*FIGURES).get()


def score_whole_store(tenant, now) -> None:
    """Every customer scored with the stored model as of ``now``, no fit (as predict_store
    scores after fitting)."""
    model = PredictionModel.objects.get(tenant=tenant)
    with transaction.atomic(), connection.cursor() as cur:
        collect_stats(cur, tenant, now, None)
        score_customers(cur, tenant, model, now, None)


def test_a_second_order_rescores_the_customer_with_the_stored_heuristic(tenant):
    build_store(tenant)
    recompute_store(tenant, NOW)
    before = predictions()
    assert before["cem@example.ch"].next_order_at == day(12, 25)  # store gap 30 days
    # cem buys again a day ago, two days after his first order: x = 1, t_x = 2 days, T = 3.
    # His gap is max(2, 7) = 7 days, one day has passed: decay 1, risk 0; orders
    # 365 x 1 / max(3, 7) = 52.142857 at his mean of 50 EUR = 2607.14 EUR; next Nov 27 + 7.
    place(tenant, "cem-1", "cem@example.ch", 50, NOW - timedelta(days=1), country="CH")
    cem = Profile.objects.get(email="cem@example.ch").pk
    assert rescore_customers(tenant, [cem], NOW) == 1
    after = predictions()
    assert figures(cem) == ("heuristic", 0.0, 52.1429, 5000, 260714, day(12, 4), NOW)
    assert {e: v for e, v in after.items() if e != "cem@example.ch"} == {
        e: v for e, v in before.items() if e != "cem@example.ch"
    }  # nobody else is touched
    fresh = figures(cem)
    score_whole_store(tenant, NOW)
    assert figures(cem) == fresh
    assert PredictionModel.objects.get(tenant=tenant).fitted_at == NOW  # no refit


def test_a_cancelled_only_order_takes_the_prediction_away_at_once(tenant):
    build_store(tenant)
    recompute_store(tenant, NOW)
    place(tenant, "cem-0", "cem@example.ch", 50, day(11, 25), status="CANCELED",
          updated_at=day(11, 26))  # fmt: skip
    cem = Profile.objects.get(email="cem@example.ch").pk
    rescore_customers(tenant, [cem], NOW)
    assert not CustomerPrediction.objects.filter(profile_id=cem).exists()
    assert len(predictions()) == 4


def test_nothing_is_rescored_before_the_first_fit(tenant):
    build_store(tenant)
    cem = Profile.objects.get(email="cem@example.ch").pk
    assert rescore_customers(tenant, [cem], NOW) == 0
    assert not CustomerPrediction.objects.exists()


ANN = p.Person(901, "ann@example.de", "Ann", "Berg", "DE", "DE", False)


def test_an_order_through_the_inbox_refreshes_what_staff_see_without_a_recompute(tenant, rates):
    build_store(tenant)
    fitted = timezone.now() - timedelta(hours=2)
    recompute_store(tenant, fitted)
    ann = Profile.objects.get(email=ANN.email).pk
    before = figures(ann)
    assert before[-1] == fitted

    deliver_order(tenant, ANN, 4242, "FULFILLED", timezone.now() - timedelta(minutes=5))

    after = figures(ann)
    assert after[-1] > fitted  # rescored when the order was applied, without a recompute
    assert after[5] != before[5] and after[4] != before[4]  # next order, 12-month value
    assert PredictionModel.objects.get(tenant=tenant).fitted_at == fitted
    query = (
        '{ crmCustomer(email: "ann@example.de") { prediction { nextOrderAt'
        " value12m { amount } computedAt } } }"
    )
    seen = staff(tenant, query)["crmCustomer"]["prediction"]
    assert seen["nextOrderAt"] == after[5].isoformat()
    assert seen["computedAt"] == after[-1].isoformat()
    # What a full scoring with the same parameters at the same moment gives her.
    score_whole_store(tenant, after[-1])
    assert figures(ann) == after


def test_bgnbd_rescoring_matches_the_full_scoring_and_the_closed_forms(tenant):
    store = draw_store(1500, days=365, acquire_days=180, truth=Truth(), seed=8)
    with connection.cursor() as cur:
        ids = load_store(cur, tenant.pk, store, OPENED)
    cutoff = OPENED + timedelta(days=365)
    model = predict_store(tenant, cutoff)
    assert model.method == "bgnbd", model.reason
    someone = next(
        pk for pk, orders in zip(ids, store, strict=True)
        if len({int(d) for d, _ in orders}) == len(orders) == 2
    )  # fmt: skip
    before = figures(someone)
    # A third purchase, ten days before a rescoring a week after the fit.
    later = cutoff + timedelta(days=7)
    bought = later - timedelta(days=10)
    with connection.cursor() as cur:
        one_more = ORDERS.replace("'s' || v.i", "'later-' || v.i")  # its own order id
        cur.execute(
            one_more, {"tenant": tenant.pk, "profiles": [someone], "at": [bought], "values": [9000]}
        )
    assert rescore_customers(tenant, [someone], later) == 1
    fresh = figures(someone)
    assert fresh[-1] == later and fresh[5] != before[5] and fresh[4] != before[4]
    # The closed forms in Python, from the stored parameters and her three purchases.
    stored = PredictionModel.objects.get(tenant=tenant)
    fitted = stored_bgnbd(stored)
    assert fitted is not None and stored.fitted_at == cutoff
    days = sorted(OPENED + timedelta(days=d) for d, _ in store[ids.index(someone)])
    days.append(bought)
    age = (later - days[0]).total_seconds() / 86400
    t_x = (days[-1] - days[0]).total_seconds() / 86400
    alive = p_alive(fitted, 2, t_x, age)
    expected = alive * expected_if_alive(fitted, 2, round(age), 365)
    values = [v for _, v in store[ids.index(someone)]] + [9000]
    value = expected_order_value(GammaGamma(stored.p, stored.q, stored.gamma), 3, sum(values) / 3)
    assert fresh[1] == pytest.approx(1 - alive, abs=1e-4)
    assert fresh[2] == pytest.approx(expected, abs=1e-4)
    assert fresh[3] == round(value)
    wait = timedelta(days=(stored.alpha + age) / (stored.r + 2))
    assert abs(fresh[5] - (later + wait)) < timedelta(milliseconds=1)
    # And a full scoring with the same parameters at the same moment gives her the same.
    score_whole_store(tenant, later)
    assert figures(someone) == fresh

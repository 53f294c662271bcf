"""Predictions: the cadence heuristic on the hand-built store, worked out by hand, and the
BG/NBD fit on a synthetic store drawn from known parameters, checked on a held-out period.

Hand-built store (tests/segments/store.py), NOW = Nov 28 12:00, five buyers, so the heuristic.
Store gap = median of buyers' average gaps: ann 20 days / 2 = 10, bob 30, dan 30 -> 30.
Share who bought again: 3 of 5 = 0.6. Days since first purchase: ann 27, bob 88, cem 3,
dan 322, eve 180 (620 in all) with 4 repeat purchases: store rate 4 / 620 per day.
Store order value = mean of customers' means: (300 + 200 + 50 + 100 + 500) / 5 = 230 EUR.
  ann gap 10, last Nov 21 (7 days): risk 0; 365 x 2 / 27 = 27.037 orders x 300 = 8111.11 EUR;
      next Dec 1.
  bob gap 30, last Oct 1 (58 days): decay exp(-(58 - 30) / 60) = 0.627089, risk 0.3729;
      0.627089 x 365 x 1 / 88 = 2.600993 orders x 200 = 520.20 EUR; next Oct 31 is past: now.
  cem one order (store gap 30), Nov 25 (3 days): decay 1, risk 1 - 0.6; 365 x 4 / 620
      = 2.354839 orders x 50 = 117.74 EUR; next Dec 25.
  dan gap 30, last Feb 9 (292 days): decay exp(-262 / 60) = 0.012693, risk 0.9873;
      0.012693 x 365 / 322 = 0.014388 orders x 100 = 1.44 EUR.
  eve one order, Jun 1 (180 days): decay exp(-150 / 60) = 0.082085, risk 1 - 0.6 x 0.082085
      = 0.9507; 0.082085 x 2.354839 = 0.193297 orders x 500 net = 96.65 EUR.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from saleor_crm_plugin.models import CustomerPrediction, PredictionModel, Profile
from saleor_crm_plugin.predictions.services import predict_store
from saleor_crm_plugin.segments.services import recompute_store
from tests.segments.store import NOW, build_store, day, place

from .synthetic import Truth, draw_store, load_store

pytestmark = pytest.mark.django_db(transaction=True)


def predictions() -> dict[str, CustomerPrediction]:
    return {p.profile.email: p for p in CustomerPrediction.objects.select_related("profile")}


def test_small_store_gets_the_cadence_heuristic_worked_out_by_hand(tenant):
    build_store(tenant)
    recompute_store(tenant, NOW)
    model = PredictionModel.objects.get(tenant=tenant)
    assert (model.method, model.customers, model.repeat_customers) == ("heuristic", 5, 3)
    assert model.reason == "customers who bought twice or more: 3 (BG/NBD needs 50)"
    assert model.store_gap_days == 30.0
    found = {
        e: (p.method, p.churn_risk, p.expected_orders_12m, p.expected_order_value_minor,
            p.value_12m_minor, p.next_order_at)
        for e, p in predictions().items()
    }  # fmt: skip
    assert found == {
        "ann@example.de": ("heuristic", 0.0, 27.037, 30000, 811111, day(12, 1)),
        "bob@example.at": ("heuristic", 0.3729, 2.601, 20000, 52020, NOW),
        "cem@example.ch": ("heuristic", 0.4, 2.3548, 5000, 11774, day(12, 25)),
        "dan@example.fr": ("heuristic", 0.9873, 0.0144, 10000, 144, NOW),
        "eve@example.de": ("heuristic", 0.9507, 0.1933, 50000, 9665, NOW),
    }  # fay never bought (two cancelled orders): no prediction


def test_the_recompute_command_reports_the_method(tenant, capsys):
    from saleor_crm_plugin.cli import main

    build_store(tenant)
    assert main(["recompute"]) == 0
    assert "predictions by heuristic" in capsys.readouterr().out
    assert CustomerPrediction.objects.filter(tenant=tenant).count() == 5


def test_a_customer_whose_only_purchase_is_cancelled_loses_the_prediction(tenant):
    build_store(tenant)
    predict_store(tenant, NOW)
    place(tenant, "cem-0", "cem@example.ch", 50, day(11, 25), status="CANCELED",
          updated_at=day(11, 26))  # fmt: skip
    predict_store(tenant, NOW)
    assert "cem@example.ch" not in predictions()
    assert len(predictions()) == 4


def test_orders_after_now_are_not_seen(tenant):
    build_store(tenant)
    place(tenant, "ann-9", "ann@example.de", 300, NOW + timedelta(days=2))
    predict_store(tenant, NOW)
    assert predictions()["ann@example.de"].next_order_at == day(12, 1)


OPENED = datetime(2025, 1, 1, tzinfo=UTC)


def test_bgnbd_fit_recovers_known_parameters_and_predicts_the_holdout(tenant):
    """3,000 customers acquired over 180 days, observed for a year, then a held-out year."""
    truth = Truth()
    store = draw_store(3000, days=2 * 365, acquire_days=180, truth=truth, seed=8)
    with connection.cursor() as cur:
        ids = load_store(cur, tenant.pk, store, OPENED)
    cutoff = OPENED + timedelta(days=365)
    model = predict_store(tenant, cutoff)
    assert (model.method, model.reason, model.customers) == ("bgnbd", "", 3000)
    # The purchase rate (r, alpha) and the drop-out probability a / (a + b) are what a
    # year of data pins down; the split of the latter into a and b is looser.
    assert model.r == pytest.approx(truth.r, rel=0.15)
    assert model.alpha == pytest.approx(truth.alpha, rel=0.15)
    assert model.a / (model.a + model.b) == pytest.approx(truth.a / (truth.a + truth.b), rel=0.15)
    assert model.p * model.gamma / (model.q - 1) == pytest.approx(
        truth.p * truth.gamma / (truth.q - 1), rel=0.05
    )
    # The held-out year: purchase days after the cutoff against the stored 12-month figure.
    stored = dict(CustomerPrediction.objects.values_list("profile_id", "expected_orders_12m"))
    actual = [len({int(d) for d, _ in orders if d >= 365}) for orders in store]
    predicted = [stored[pk] for pk in ids]
    assert sum(predicted) == pytest.approx(sum(actual), rel=0.1)
    mae = sum(abs(p - a) for p, a in zip(predicted, actual, strict=True)) / len(store)
    # Better per customer than the naive guess "as many as in the observed year".
    naive = [len({int(d) for d, _ in orders if d < 365}) - 1 for orders in store]
    naive_mae = sum(abs(n - a) for n, a in zip(naive, actual, strict=True)) / len(store)
    assert mae < 0.9 * naive_mae
    assert {p.method for p in CustomerPrediction.objects.all()} == {"bgnbd"}
    # Value: the expected 12-month spend against what was spent in the held-out year.
    spent = sum(v for orders in store for d, v in orders if d >= 365)
    value = sum(CustomerPrediction.objects.values_list("value_12m_minor", flat=True))
    assert value == pytest.approx(spent, rel=0.15)


def test_segments_select_on_churn_risk_and_predicted_value(tenant):
    from saleor_crm_plugin.segments.queries import preview

    build_store(tenant)
    recompute_store(tenant, NOW)
    risky = preview(tenant, {"all": [{"field": "churn_risk", "op": "gt", "value": 0.9}]}, NOW, 10)
    assert sorted(Profile.objects.filter(pk__in=risky.first).values_list("email", flat=True)) == [
        "dan@example.fr", "eve@example.de"
    ]  # fmt: skip
    rich = {"all": [{"field": "predicted_value_12m", "op": "gte", "value": "500"}]}
    found = preview(tenant, rich, NOW, 10)  # ann 8111.11, bob 520.20 EUR
    assert sorted(Profile.objects.filter(pk__in=found.first).values_list("email", flat=True)) == [
        "ann@example.de", "bob@example.at"
    ]  # fmt: skip

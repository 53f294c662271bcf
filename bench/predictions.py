"""Accuracy of the predictions on synthetic stores drawn from known parameters, on a held-out year.

Usage (PostgreSQL from ``DATABASE_URL``; that database is dropped, recreated and dropped again
at the end)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_pred \\
        .venv/bin/python bench/predictions.py --customers 20000 --seeds 1 2 3

Each store (tests/predictions/synthetic.py; parameters ``Truth``) acquires its customers over
180 days and is observed for a year; ``predict_store`` fits and scores at the end of that year
(the cutoff), and the next year is held out. Reported per store: the fitted parameters, the
fit-and-score time, the per-customer mean absolute error of the predicted 12-month purchases
against the held-out purchase days, the same error for the naive guess "as many repeat
purchases as in the observed year", the aggregate error of purchases and of spend, and the same
for the cadence heuristic (what a small store gets) on the same data.

Per-event rescoring (``predictions/rescore.py``, what an inbox batch runs for the customers of
the orders it applied): the latency of rescoring one customer with the stored parameters, for a
random sample of customers, against a floor measured in the same run: one keyed row of
``crm_customer_prediction`` rewritten in its own transaction (the least any per-event update
writes). It also checks that rescoring at the fit's moment reproduces the fit's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.recompute import drop_database, setup_database  # noqa: E402

OPENED = datetime(2025, 1, 1, tzinfo=UTC)


def timed(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def rescoring(  # type: ignore[no-untyped-def]
    tenant, ids: list[int], now: datetime, sample: int, seed: int
) -> dict[str, object]:
    """Per-event rescoring latency of ``sample`` customers, and its floor (module docstring)."""
    from django.db import connection, transaction

    from saleor_crm_plugin.models import CustomerPrediction
    from saleor_crm_plugin.predictions.rescore import rescore_customers

    chosen = random.Random(seed).sample(ids, min(sample, len(ids)))
    fields = ("churn_risk", "expected_orders_12m", "value_12m_minor", "next_order_at")
    fitted = {p[0]: p[1:] for p in CustomerPrediction.objects.filter(
        profile_id__in=chosen).values_list("profile_id", *fields)}  # fmt: skip

    def floor(pk: int) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "UPDATE crm_customer_prediction SET computed_at = computed_at "
                "WHERE profile_id = %s",
                [pk],
            )

    floors = [timed(lambda pk=pk: floor(pk)) for pk in chosen]
    latencies = [timed(lambda pk=pk: rescore_customers(tenant, [pk], now)) for pk in chosen]
    again = {p[0]: p[1:] for p in CustomerPrediction.objects.filter(
        profile_id__in=chosen).values_list("profile_id", *fields)}  # fmt: skip
    floor_ms = statistics.median(floors) * 1000
    median_ms = statistics.median(latencies) * 1000
    return {
        "customers": len(chosen),
        "median_ms": round(median_ms, 2),
        "p95_ms": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))] * 1000, 2),
        "floor_median_ms": round(floor_ms, 2),
        "ratio": round(median_ms / floor_ms, 1),
        "same_as_fit": sum(again[pk] == fitted[pk] for pk in chosen),
    }


def run(customers: int, seed: int, sample: int) -> dict[str, object]:
    from django.db import connection
    from django.test import override_settings

    from saleor_crm_plugin.models import CustomerPrediction, OrderRecord, Profile, Tenant
    from saleor_crm_plugin.predictions.services import predict_store
    from saleor_crm_plugin.tenants.services import register_tenant
    from tests.predictions.synthetic import Truth, draw_store, load_store

    Profile.objects.all().delete()
    OrderRecord.objects.all().delete()
    Tenant.objects.all().delete()
    tenant = register_tenant(api_url=f"http://bench{seed}.example/graphql/", app_token="bench",
                             base_currency="EUR")  # fmt: skip
    store = draw_store(customers, days=730, acquire_days=180, truth=Truth(), seed=seed)
    with connection.cursor() as cur:
        ids = load_store(cur, tenant.pk, store, OPENED)
    cutoff = OPENED + timedelta(days=365)
    actual = [len({int(d) for d, _ in orders if d >= 365}) for orders in store]
    naive = [len({int(d) for d, _ in orders if d < 365}) - 1 for orders in store]
    spent = sum(v for orders in store for d, v in orders if d >= 365)

    def mae(guess: list[float] | list[int]) -> float:
        return sum(abs(g - a) for g, a in zip(guess, actual, strict=True)) / customers

    def measure() -> dict[str, float]:
        found = dict(CustomerPrediction.objects.values_list("profile_id", "expected_orders_12m"))
        value = sum(CustomerPrediction.objects.values_list("value_12m_minor", flat=True))
        predicted = [found[pk] for pk in ids]
        return {
            "mae": round(mae(predicted), 3),
            "purchases_error": round(sum(predicted) / sum(actual) - 1, 3),
            "value_error": round(value / spent - 1, 3),
        }

    started = time.perf_counter()
    model = predict_store(tenant, cutoff)
    seconds = time.perf_counter() - started
    fitted = measure()
    rescored = rescoring(tenant, ids, cutoff, sample, seed)
    with override_settings(CRM_PREDICTION_MIN_REPEAT_CUSTOMERS=10**9):
        predict_store(tenant, cutoff)
    heuristic = measure()
    return {
        "customers": customers,
        "seed": seed,
        "method": model.method,
        "fitted": {
            k: round(getattr(model, k), 3) for k in ("r", "alpha", "a", "b", "p", "q", "gamma")
        },
        "fit_and_score_s": round(seconds, 2),
        "rescore_one": rescored,
        "bgnbd": fitted,
        "naive_mae": round(mae(naive), 3),
        "heuristic": heuristic,
        "held_out_purchases": sum(actual),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rescore-sample", type=int, default=300,
                        help="customers rescored one by one, as per event")  # fmt: skip
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("set DATABASE_URL to a PostgreSQL database the benchmark may drop")
    setup_database(url)
    try:
        reports = [run(args.customers, seed, args.rescore_sample) for seed in args.seeds]
    finally:
        drop_database(url)
    print(json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

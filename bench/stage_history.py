"""The stage chart (``stageSeries``) read from the stored stage history against the same chart
rebuilt from the orders, in the same run, with a bare GROUP BY over the orders as the floor.

Usage (PostgreSQL from ``DATABASE_URL``; that database is dropped, recreated and dropped again
at the end)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_stages \\
        .venv/bin/python bench/stage_history.py --customers 20000

The store is ``bench/recompute.py``'s (N profiles, 5N orders over two years), lived the way a
store lives: the orders arrive month by month and the full recompute scores everyone at each
month's end of the last year (the first one starts the history) and now, so the history holds
the stage changes those recomputes stored. Then, for the last year by month (13 points), median
of three each: the chart from the history (``kpis/stage_history.py``), the chart rebuilt from the
orders (``kpis/stages.py``, with churn, which comes from the same statement), and the floor. Also
how far the two charts differ: they need not agree exactly (the history holds what the CRM
stored then, with the cadence of that time; the rebuild uses today's cadence). With
``--days-mode`` (thresholds in days, the same then and now) they must agree exactly.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.recompute import (  # noqa: E402
    FLOOR,
    NOW,
    ORDERS,
    PROFILES,
    drop_database,
    setup_database,
    timed,
)

ZONE = "Europe/Berlin"


def month_ends(start: date, count: int) -> list[date]:
    found, day = [], start
    for _ in range(count):
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        found.append(day)
    return found


def run(customers: int, days_mode: bool) -> dict[str, object]:
    from zoneinfo import ZoneInfo

    from django.db import connection, transaction

    from saleor_crm_plugin.kpis.queries import buckets
    from saleor_crm_plugin.kpis.sql import reporting
    from saleor_crm_plugin.kpis.stage_history import history_chart
    from saleor_crm_plugin.kpis.stages import lifecycle_pass
    from saleor_crm_plugin.kpis.types import Slice
    from saleor_crm_plugin.models import LifecycleSettings, StageChange
    from saleor_crm_plugin.segments.history import note_history_start
    from saleor_crm_plugin.segments.scores import recompute
    from saleor_crm_plugin.tenants.services import register_tenant

    tenant = register_tenant(api_url="http://bench.example/graphql/", app_token="bench",
                             base_currency="EUR")  # fmt: skip
    params = {"tenant": tenant.pk, "n": customers, "orders": customers * 5, "now": NOW}
    if days_mode:  # the same thresholds for everyone, then and now: the charts must agree
        LifecycleSettings.objects.create(
            tenant=tenant, mode="days", at_risk_after=90, dormant_after=180, lost_after=365
        )
    with connection.cursor() as cur:
        cur.execute(PROFILES, params)
        cur.execute(ORDERS, params)
        # The orders wait aside and arrive month by month.
        cur.execute("CREATE TABLE bench_arriving AS SELECT * FROM crm_order")
        cur.execute("DELETE FROM crm_order")
    zone = ZoneInfo(ZONE)
    ends = [datetime.combine(d, clock(), zone) for d in month_ends(date(2025, 10, 1), 13)]
    moments = [m for m in ends if m < NOW] + [NOW]
    started = time.perf_counter()
    for k, moment in enumerate(moments):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO crm_order SELECT * FROM bench_arriving WHERE created_at < %s", [moment]
            )
            cur.execute("DELETE FROM bench_arriving WHERE created_at < %s", [moment])
        recompute(tenant, moment)
        if k == 0:
            note_history_start(tenant, moment)
    lived_s = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_arriving")
        cur.execute("VACUUM ANALYZE crm_order")
        cur.execute("VACUUM ANALYZE crm_stage_change")
        cur.execute("VACUUM ANALYZE crm_customer_scores")

    year = Slice.of_days(date(2025, 12, 1), date(2026, 12, 1), ZONE)
    points = [
        (day, min(end, NOW))
        for day, end in buckets(year, "month")
        if datetime.combine(day, clock(), zone) < NOW
    ]
    charts: dict[str, list] = {}

    def from_history() -> None:
        with reporting():
            charts["history"] = history_chart(tenant, year, points)

    def rebuilt() -> None:
        with reporting():
            charts["rebuilt"] = lifecycle_pass(tenant, year, points, NOW)[0]

    def floor() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(FLOOR, params)
            cur.execute("DROP TABLE bench_floor")

    floor_s = statistics.median(timed(floor) for _ in range(3))
    history_s = statistics.median(timed(from_history) for _ in range(3))
    rebuilt_s = statistics.median(timed(rebuilt) for _ in range(3))
    counted = differ = 0
    for h, r in zip(charts["history"], charts["rebuilt"], strict=True):
        for stage in set(h.stages) | set(r.stages):
            counted += r.stages.get(stage, 0)
            differ += abs(h.stages.get(stage, 0) - r.stages.get(stage, 0))
    return {
        "customers": customers,
        "orders": customers * 5,
        "mode": "days" if days_mode else "cadence",
        "recomputes": len(moments),
        "lived_s": round(lived_s, 1),
        "stage_changes": StageChange.objects.filter(tenant=tenant).count(),
        "points": len(points),
        "floor_group_by_s": round(floor_s, 3),
        "chart_from_history_s": round(history_s, 3),
        "history_ratio": round(history_s / floor_s, 2),
        "chart_rebuilt_s": round(rebuilt_s, 3),
        "rebuilt_ratio": round(rebuilt_s / floor_s, 2),
        "differing_share": round(differ / counted, 4) if counted else 0,
        "last_point_history": charts["history"][-1].stages,
        "last_point_rebuilt": charts["rebuilt"][-1].stages,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days-mode", action="store_true", help="thresholds in days (90/180/365)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("set DATABASE_URL to a PostgreSQL database the benchmark may drop")
    setup_database(url)
    try:
        report = run(args.customers, args.days_mode)
    finally:
        drop_database(url)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

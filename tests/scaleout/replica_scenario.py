"""Run in a child process by test_replica.py, against a primary (``DATABASE_URL``) and its
streaming replica (``CRM_ANALYTICS_DATABASE_URL``): builds the KPI test store on the primary,
then reads reports while the replica replays, while it is paused, and after it resumes.
Prints what it saw as one JSON line; the test asserts on it.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from saleor_crm_plugin.kpis.cohorts import cohorts  # noqa: E402
from saleor_crm_plugin.kpis.queries import Report  # noqa: E402
from saleor_crm_plugin.kpis.types import Slice  # noqa: E402
from saleor_crm_plugin.ops.metrics import collect  # noqa: E402
from saleor_crm_plugin.scaleout.replica import replica_lag_seconds  # noqa: E402
from saleor_crm_plugin.segments.queries import preview  # noqa: E402
from saleor_crm_plugin.tenants.services import register_tenant  # noqa: E402
from tests.kpis.store import NOW, TOKYO, at, build_store, place  # noqa: E402

Q1 = Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO)
GERMANS = {"all": [{"field": "country", "op": "in", "value": ["DE"]}]}


def scalar(alias: str, sql: str) -> object:
    with connections[alias].cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    assert row is not None
    return row[0]


def wait_replayed() -> None:
    target = scalar("default", "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        caught_up = scalar("analytics", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
        if caught_up:
            return
        time.sleep(0.1)
    raise RuntimeError("replica did not catch up")


def figures(tenant) -> dict[str, object]:
    summary = Report(tenant, Q1, NOW).summary
    return {
        "orders": summary.orders,
        "revenue_minor": summary.revenue_minor,
        "cohort_sizes": [c.customers for c in cohorts(tenant, Q1, NOW)],
        "germans": preview(tenant, GERMANS, NOW, 10).count,
    }


def main() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    tenant = register_tenant(api_url="https://replica.example/graphql/", app_token="t")
    build_store(tenant)
    wait_replayed()
    seen: dict[str, object] = {"caught_up": figures(tenant)}
    seen["in_recovery"] = scalar("analytics", "SELECT pg_is_in_recovery()")

    scalar("analytics", "SELECT pg_wal_replay_pause()::text")
    while scalar("analytics", "SELECT pg_get_wal_replay_pause_state()") != "paused":
        time.sleep(0.05)
    # A write while analytics read from the paused replica: it goes to the primary.
    place(tenant, "hal-1", "hal@example.de", 7000, "EUR", at(2026, 2, 2), "DE")
    seen["primary_orders"] = scalar(
        "default", "SELECT count(*) FROM crm_order WHERE status <> 'CANCELED'"
    )
    seen["paused"] = figures(tenant)
    seen["lag_seconds"] = replica_lag_seconds()
    time.sleep(1.5)  # nothing replayed while paused: the lag grows
    gauges = {f.name: f.samples for f in collect()}
    seen["metric_lag"] = gauges["crm_analytics_replica_lag_seconds"][0][1]

    scalar("analytics", "SELECT pg_wal_replay_resume()::text")
    wait_replayed()
    seen["resumed"] = figures(tenant)
    for conn in connections.all():
        conn.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()

"""Analytics on a real streaming replica (``CRM_ANALYTICS_DATABASE``), and on the primary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.db import DatabaseError, connection

from saleor_crm_plugin.kpis.queries import Report
from saleor_crm_plugin.kpis.sql import reporting
from saleor_crm_plugin.kpis.types import Slice
from saleor_crm_plugin.scaleout.replica import replica_lag_seconds
from tests.kpis.store import NOW, at, place

from .clusters import ReplicaPair, pg_bin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def replica_pair() -> Iterator[ReplicaPair]:
    if pg_bin() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_basebackup) are not installed")
    pair = ReplicaPair()
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


def test_reports_read_the_replica_and_trail_it_by_its_lag(replica_pair: ReplicaPair):
    import psycopg

    with psycopg.connect(replica_pair.primary.url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE crm")
    env = {
        **os.environ,
        "DATABASE_URL": replica_pair.primary.url("crm"),
        "CRM_ANALYTICS_DATABASE_URL": replica_pair.standby.url("crm"),
        "CRM_BASE_CURRENCY": "EUR",
        "CELERY_BROKER_URL": "",
        "CRM_INBOX_DISPATCH": "eager",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.scaleout.replica_scenario"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    # Q1 of the KPI store (tests/kpis/test_kpis.py): 7 orders, 695 EUR; cohorts Jan (gus, ann),
    # Feb (cem), Mar (dan); Germans: fay, ann, eve.
    before = {"orders": 7, "revenue_minor": 69500, "cohort_sizes": [2, 1, 1], "germans": 3}
    assert seen["in_recovery"] is True  # the analytics alias really is the standby
    assert seen["caught_up"] == before
    # Replay paused: hal's February order is on the primary, and the reports do not show it.
    assert seen["primary_orders"] == 12  # 11 before, with eve's cancelled one left out, and hal's
    assert seen["paused"] == before
    assert seen["lag_seconds"] is not None and seen["lag_seconds"] >= 0
    assert seen["metric_lag"] >= seen["lag_seconds"] + 1.5  # /metrics shows it growing
    # Replay resumed: the reports catch up.
    assert seen["resumed"] == {
        "orders": 8,
        "revenue_minor": 76500,
        "cohort_sizes": [2, 2, 1],
        "germans": 4,
    }


@pytest.mark.django_db(transaction=True)
def test_without_a_replica_reports_read_the_primary_in_a_read_only_transaction(tenant):
    assert replica_lag_seconds() is None  # the primary: no lag to report
    place(tenant, "ann-1", "ann@example.de", 10000, "EUR", at(2026, 1, 15), "DE")
    january = Slice.of_days(date(2026, 1, 1), date(2026, 2, 1), "UTC")
    assert Report(tenant, january, NOW).summary.orders == 1
    with pytest.raises(DatabaseError, match="read-only transaction"):
        with reporting(), connection.cursor() as cur:
            cur.execute("DELETE FROM crm_order")
    assert Report(tenant, january, NOW).summary.orders == 1  # nothing was deleted


def test_an_unknown_analytics_alias_fails_the_system_check(settings):
    settings.CRM_ANALYTICS_DATABASE = "replica"
    errors = [e for e in run_checks() if e.id == "saleor_crm_plugin.E030"]
    assert [e.msg for e in errors] == [
        "CRM_ANALYTICS_DATABASE 'replica' is not a database alias in DATABASES."
    ]
    settings.CRM_ANALYTICS_DATABASE = "default"
    assert not [e for e in run_checks() if e.id == "saleor_crm_plugin.E030"]

"""``saleor-crm partition`` on a database of its own, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_database() -> str:
    """A database for the command alone (the tests' own must stay unpartitioned)."""
    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_partition"
    base = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def crm(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": "", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "saleor_crm_plugin.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_partition_command_on_a_fresh_database(fresh_database):
    assert crm(fresh_database, "migrate", "-v", "0").returncode == 0

    done = crm(fresh_database, "partition", "--table", "inbox", "--months-ahead", "2")
    again = crm(fresh_database, "partition", "--table", "inbox")
    timeline = crm(fresh_database, "partition", "--table", "timeline")

    assert done.returncode == 0, done.stderr[-2000:]
    assert "0 deliveries in 3 partitions" in done.stdout
    assert again.returncode == 0
    assert "already partitioned; created 1 partitions" in again.stdout  # the 3rd month ahead
    assert timeline.returncode == 2
    assert "crm_timeline is not partitioned" in timeline.stderr
    with psycopg.connect(fresh_database) as conn:
        kinds = conn.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname IN "
            "('crm_inbox_delivery', 'crm_timeline', 'crm_inbox_dedupe') ORDER BY 1"
        ).fetchall()
        count = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'crm_inbox_delivery'::regclass"
        ).fetchone()
    assert kinds == [("crm_inbox_dedupe", "r"), ("crm_inbox_delivery", "p"), ("crm_timeline", "r")]
    assert count == (4,)

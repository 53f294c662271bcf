"""The inbox unpartitioned and in monthly partitions, on the same rows, against floors.

Usage (databases ``<name>_plain`` and ``<name>_part`` next to ``DATABASE_URL``'s are dropped,
recreated and dropped again at the end unless ``--keep``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_scaleout_bench \\
        nice .venv/bin/python bench/partitions.py --rows 2000000

For each layout: ``saleor-crm migrate``, then N deliveries generated set-based over 24 months
(about 400-byte bodies, six events, 1,000 pending and 100 failed, the rest processed), then for
the partitioned one ``partition_inbox`` (timed: the maintenance window of a conversion), then
``VACUUM ANALYZE`` and, median of three rounds each:

- **accept**: ``inbox.services.accept`` of a new body, one per transaction (a webhook);
- **replay**: ``accept`` of a body stored 20 months ago (a duplicate: nothing stored);
- **page**: ``accept_many`` of 500 new bodies (a backfill page);
- **lag**: ``inbox.queries.inbox_lag`` (what ``/health`` and ``/metrics`` ask);
- **drop a month**: the oldest month's rows removed, ``DELETE`` vs ``DETACH`` + ``DROP``.

Floors, measured in the same database in the same run: a one-row insert into a table without
indexes (for accept and replay), the same 500 rows into it (page), ``SELECT 1`` (lag), and the
fill's rows inserted into it set-based (fill).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
ROUNDS = 3

FILL = """
INSERT INTO {table} (tenant_id, source, event, body, headers, body_hash, state, attempts,
  error_code, error_message, received_at, processed_at)
SELECT %(tenant)s, 'webhook', (ARRAY['order_created','order_updated','order_paid',
    'order_fully_paid','customer_updated','checkout_updated'])[1 + i %% 6],
  convert_to(repeat(md5(i::text), 12), 'UTF8'), '{{}}'::jsonb,
  encode(sha256(convert_to(repeat(md5(i::text), 12), 'UTF8')), 'hex'),
  CASE WHEN i %% 2000 = 0 THEN 'pending' WHEN i %% 20000 = 1 THEN 'failed' ELSE 'processed' END,
  1, '', '', %(now)s - (i::float / %(n)s) * interval '730 days',
  %(now)s - (i::float / %(n)s) * interval '730 days'
FROM generate_series(%(lo)s, %(hi)s) AS i
"""
FLOOR_TABLE = """
CREATE TABLE bench_floor (id bigserial, tenant_id bigint, source text, event text, body bytea,
  headers jsonb, body_hash text, state text, attempts int, error_code text, error_message text,
  received_at timestamptz, processed_at timestamptz)
"""


def median_ms(fn: Callable[[], object], repeat: int = 1) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        times.append((time.perf_counter() - start) * 1000 / repeat)
    return statistics.median(times)


def measure(rows: int, partitioned: bool) -> dict[str, float]:
    """Runs inside Django on one database; returns milliseconds per operation."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    import django

    django.setup()
    from django.db import connection

    from saleor_crm_plugin.inbox.queries import inbox_lag
    from saleor_crm_plugin.inbox.services import accept, accept_many
    from saleor_crm_plugin.scaleout.partitions import partition_inbox
    from saleor_crm_plugin.tenants.services import register_tenant

    tenant = register_tenant(api_url="https://bench.example/graphql/", app_token="t")
    found: dict[str, float] = {}
    cur = connection.cursor()
    cur.execute(FLOOR_TABLE)
    chunk = 250_000
    start = time.perf_counter()
    for lo in range(1, rows + 1, chunk):
        cur.execute(
            FILL.format(table="crm_inbox_delivery"),
            {"tenant": tenant.pk, "now": NOW, "n": rows, "lo": lo, "hi": min(lo + chunk - 1, rows)},
        )
    found["fill_s"] = time.perf_counter() - start
    start = time.perf_counter()
    for lo in range(1, rows + 1, chunk):
        cur.execute(
            FILL.format(table="bench_floor"),
            {"tenant": tenant.pk, "now": NOW, "n": rows, "lo": lo, "hi": min(lo + chunk - 1, rows)},
        )
    found["fill_floor_s"] = time.perf_counter() - start
    if partitioned:
        start = time.perf_counter()
        done = partition_inbox(datetime.now(UTC), months_ahead=3)
        found["convert_s"] = time.perf_counter() - start
        found["partitions"] = len(done.partitions)
        assert done.rows == rows, done
    cur.execute("VACUUM ANALYZE")

    counter = iter(range(10**9))

    def new_body() -> bytes:
        return f'{{"bench": {next(counter)}, "layout": {partitioned}}}'.encode()

    def floor_insert() -> None:
        cur.execute(
            "INSERT INTO bench_floor (tenant_id, event, body, body_hash, state, received_at) "
            "VALUES (%s, 'order_updated', %s, md5(%s), 'pending', now())",
            [tenant.pk, new_body(), "x"],
        )

    # Bodies stored about 20 months ago, as FILL made them (its event is the i % 6th).
    events = ["order_created", "order_updated", "order_paid", "order_fully_paid",
              "customer_updated", "checkout_updated"]  # fmt: skip
    first = int(rows * 0.83)
    cur.execute(
        "SELECT i, convert_to(repeat(md5(i::text), 12), 'UTF8') FROM generate_series(%s, %s) i",
        [first, first + 1000],
    )
    replays = iter([(events[i % 6], bytes(b)) for i, b in cur.fetchall()])

    def replay() -> None:
        event, body = next(replays)
        got = accept(tenant, event=event, body=body, headers={})
        assert got.duplicate, "the replayed body was stored again"

    found["accept_ms"] = median_ms(
        lambda: accept(tenant, event="order_updated", body=new_body(), headers={}), 300
    )
    found["floor_insert_ms"] = median_ms(floor_insert, 300)
    found["replay_ms"] = median_ms(replay, 300)
    found["page_ms"] = median_ms(
        lambda: accept_many(tenant, [("order_updated", new_body()) for _ in range(500)]), 5
    )

    def floor_page() -> None:
        cur.execute(
            "INSERT INTO bench_floor (tenant_id, event, body, body_hash, state, received_at) "
            "SELECT %s, 'order_updated', b, md5(b), 'pending', now() FROM unnest(%s::bytea[]) b",
            [tenant.pk, [new_body() for _ in range(500)]],
        )

    found["floor_page_ms"] = median_ms(floor_page, 5)
    found["lag_ms"] = median_ms(inbox_lag, 50)
    found["floor_select_ms"] = median_ms(lambda: cur.execute("SELECT 1"), 50)

    start = time.perf_counter()
    if partitioned:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'crm_inbox_delivery'::regclass ORDER BY 1 LIMIT 1"
        )
        oldest = cur.fetchone()[0]
        cur.execute(f"ALTER TABLE crm_inbox_delivery DETACH PARTITION {oldest}")
        cur.execute(f"DROP TABLE {oldest}")
    else:
        cur.execute(
            "DELETE FROM crm_inbox_delivery WHERE received_at < date_trunc('month', "
            "(SELECT min(received_at) FROM crm_inbox_delivery)) + interval '1 month'"
        )
    found["drop_month_ms"] = (time.perf_counter() - start) * 1000
    cur.execute(
        "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "WHERE c.relname LIKE 'crm_inbox_%%' AND c.relkind IN ('r', 'p')"
    )
    found["inbox_mb"] = float(cur.fetchone()[0]) / 2**20
    cur.close()
    connection.close()
    return found


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def run_layout(url: str, rows: int, partitioned: bool, keep: bool) -> dict[str, float]:
    base = urlsplit(url).path.lstrip("/")
    name = f"{base}_{'part' if partitioned else 'plain'}"
    target = with_db(url, name)
    admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(url, f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": target, "CELERY_BROKER_URL": ""}
    try:
        subprocess.run(
            [sys.executable, "-m", "saleor_crm_plugin.cli", "migrate", "-v", "0"],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        out = subprocess.run(
            [sys.executable, __file__, "--measure", "--rows", str(rows)]
            + (["--partitioned"] if partitioned else []),
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        if not keep:
            admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--partitioned", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.rows, args.partitioned)))
        return
    url = os.environ["DATABASE_URL"]
    print("uptime before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout)
    plain = run_layout(url, args.rows, False, args.keep)
    part = run_layout(url, args.rows, True, args.keep)
    print("uptime after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout)
    print(json.dumps({"plain": plain, "partitioned": part}, indent=1))
    rows = [
        ("accept (new, one per transaction)", "accept_ms", "floor_insert_ms", "ms"),
        ("accept (replayed duplicate)", "replay_ms", "floor_insert_ms", "ms"),
        ("accept_many (500-row page)", "page_ms", "floor_page_ms", "ms"),
        ("inbox_lag()", "lag_ms", "floor_select_ms", "ms"),
    ]
    print("| operation | unpartitioned | ratio to floor | partitioned | ratio to floor | "
          "partitioned / unpartitioned |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    for label, key, floor, unit in rows:
        a, b = plain[key], part[key]
        print(
            f"| {label} | {a:.2f} {unit} | {a / plain[floor]:.1f} | {b:.2f} {unit} | "
            f"{b / part[floor]:.1f} | {b / a:.2f} |"
        )
    print(
        f"| drop the oldest month | {plain['drop_month_ms']:.0f} ms (DELETE) | | "
        f"{part['drop_month_ms']:.0f} ms (DETACH + DROP) | | "
        f"{part['drop_month_ms'] / plain['drop_month_ms']:.3f} |"
    )
    print(
        f"fill of {args.rows:,} rows (unpartitioned, set-based): {plain['fill_s']:.1f} s, "
        f"{part['fill_s']:.1f} s (floors {plain['fill_floor_s']:.1f} s, "
        f"{part['fill_floor_s']:.1f} s)"
    )
    print(
        f"conversion of {args.rows:,} rows: {part['convert_s']:.1f} s "
        f"({int(part['partitions'])} partitions); inbox size {plain['inbox_mb']:.0f} MB "
        f"unpartitioned, {part['inbox_mb']:.0f} MB partitioned (with crm_inbox_dedupe)"
    )


if __name__ == "__main__":
    main()

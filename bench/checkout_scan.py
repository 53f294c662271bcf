"""The abandoned-checkout due scan (``recovery.services.start_flows``) as stored checkouts pile up.

Usage (PostgreSQL from ``DATABASE_URL``; the database is dropped and recreated)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
      .venv/bin/python bench/checkout_scan.py --sizes 200000,2000000

Every size holds the same 2,000 carts inside the reminder window (left between one and 72 hours
ago, open, with lines and an e-mail, half of their customers with a later order) plus a history
of older carts (up to two years back, 70% completed), built set-based with ``generate_series``.
``start_flows`` is timed as the beat runs it (median of 5 after one warm-up, each run rolled
back, so every run starts the same flows). The **floor** is the same scan with
no history at all: a scan whose cost follows the window, not the table, keeps a ratio near 1.
The plan of the scan's ``SELECT`` at the largest size is printed, to show the partial index
``crm_checkout_open`` bounding it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
WINDOW = 2000
PROFILES = 50_000

CHECKOUTS = """
INSERT INTO crm_checkout (tenant_id, profile_id, checkout_id, token, user_id, email, channel,
  currency, language, country, created_at, updated_at, issued_at, total_gross_minor, lines,
  paid_at, completed_order_id)
SELECT 1, 1 + g %% %(profiles)s, 'co' || g, '', NULL,
  'c' || (1 + g %% %(profiles)s) || '@x.example',
  'default', 'EUR', 'de', 'DE', at, at, at, 1000 + g %% 9000,
  '[{"variant_id": "v1", "quantity": 1}]'::jsonb, NULL,
  CASE WHEN %(recent)s OR g %% 10 >= 7 THEN NULL ELSE 'o' || g END
FROM (
  SELECT g, CASE WHEN %(recent)s
                 THEN %(now)s - make_interval(secs => 3600 + (g %% 71) * 3600 + g %% 3000)
                 ELSE %(now)s - interval '4 days'
                      - make_interval(secs => (g::bigint * 7919 %% (730 * 86400)))
            END AS at
  FROM generate_series(%(first)s, %(last)s) g
) s
"""


def add_checkouts(first: int, last: int, *, recent: bool) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            CHECKOUTS,
            {"first": first, "last": last, "recent": recent, "now": NOW, "profiles": PROFILES},
        )
        cur.execute("ANALYZE crm_checkout")


def seed() -> None:
    """Customers, orders for half the window's customers, and flows for a few of them."""
    from django.db import connection

    from saleor_crm_plugin.models import Profile, Tenant

    tenant = Tenant.objects.create(
        pk=1, saleor_api_url="http://bench/graphql/", base_currency="EUR"
    )
    Profile.objects.bulk_create(
        (Profile(pk=i, tenant=tenant, email=f"c{i}@x.example") for i in range(1, PROFILES + 1)),
        batch_size=5000,
    )
    with connection.cursor() as cur:
        # Orders after their cart for every other customer of the window (they bought anyway),
        # and two years of older orders for everyone.
        cur.execute(
            """
            INSERT INTO crm_order (tenant_id, profile_id, order_id, number, email, channel,
              currency, status, language, country, created_at, updated_at, issued_at,
              total_gross_minor, total_net_minor, charged_minor, refunded_minor, fx_rate,
              base_currency, total_gross_base_minor, total_net_base_minor, refunded_base_minor,
              payment_methods, lines, address_key, payment_keys, psp_references)
            SELECT 1, 1 + g %% %(profiles)s, 'o' || g, g::text, '', 'default', 'EUR', 'FULFILLED',
              '', '', at, at, at, 5000, 5000, 5000, 0, 1, 'EUR', 5000, 5000, 0, '{}', '[]'::jsonb,
              '', '{}', '{}'
            FROM (
              SELECT g, CASE WHEN g <= %(window)s AND g %% 2 = 0 THEN %(now)s - interval '10 min'
                             ELSE %(now)s - make_interval(secs => 5 * 86400 + g * 131 %% 6e7)
                        END AS at
              FROM generate_series(1, %(orders)s) g
            ) s
            """,
            {"profiles": PROFILES, "window": WINDOW, "now": NOW, "orders": PROFILES * 2},
        )
        cur.execute("ANALYZE crm_order")


def timed_scan() -> tuple[float, int]:
    from django.db import connection, transaction

    from saleor_crm_plugin.models import Tenant
    from saleor_crm_plugin.recovery.services import Schedule, start_flows

    tenant = Tenant.objects.get(pk=1)
    runs, started = [], 0
    for attempt in range(6):  # the first run warms the caches and is not counted
        # The rolled-back runs leave dead rows behind (autovacuum is off here, as on CI); the
        # beat's scan meets a vacuumed table, so every run starts from one.
        with connection.cursor() as cur:
            cur.execute("VACUUM crm_recovery_flow, crm_timeline")
        with transaction.atomic():
            start = time.perf_counter()
            started = start_flows(tenant, Schedule(), NOW)
            if attempt:
                runs.append(time.perf_counter() - start)
            transaction.set_rollback(True)
    return statistics.median(runs), started


def explain() -> str:
    """The plan of the candidate scan (the SELECT of start_flows, window conditions only)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
            SELECT c.id FROM crm_checkout c
            WHERE c.tenant_id = 1 AND c.completed_order_id IS NULL
              AND c.updated_at > %(since)s AND c.updated_at <= %(until)s
              AND c.paid_at IS NULL AND c.email <> '' AND c.profile_id IS NOT NULL
            """,
            {"since": NOW - timedelta(hours=72), "until": NOW - timedelta(hours=1)},
        )
        return "\n".join(row[0] for row in cur.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="200000,2000000", help="stored checkouts, comma-separated, ascending"
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    from bench.backfill import setup_database

    setup_database()
    seed()
    add_checkouts(1, WINDOW, recent=True)
    floor, started = timed_scan()
    print(
        f"floor: {WINDOW:,} carts in the window, no history: {floor * 1000:.1f} ms, "
        f"{started:,} flows started"
    )
    print(
        "| stored checkouts | generate | scan (median of 5) | flows started | ratio to floor "
        "| ratio to first size |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    stored, first = WINDOW, 0.0
    for size in sizes:
        begin = time.perf_counter()
        add_checkouts(stored + 1, size, recent=False)
        generated = time.perf_counter() - begin
        stored = size
        took, started = timed_scan()
        first = first or took
        print(
            f"| {size:,} | {generated:.0f} s | {took * 1000:.1f} ms | {started:,} | "
            f"{took / floor:.2f} | {took / first:.2f} |",
            flush=True,
        )
    print("\nplan of the candidate scan at the largest size:\n" + explain())
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    raise SystemExit(main())

"""How the ledger's lookup of an order's entries is costed and timed on a big ledger, with and
without the expression statistics of migration 0035 (``crm_points_order_key``).

Usage (PostgreSQL from ``DATABASE_URL``; the database is dropped and recreated)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
      .venv/bin/python bench/ledger_lookup.py --orders 900000

The ledger of a backfilled store: one tenant, that many guest orders (one profile each), an earn
entry per order, a reversal (``<order>@<refunded>``) for every tenth and a void for every
fiftieth (1,008,000 entries for 900,000 orders). Then, without the statistics and with them
(each after ANALYZE): one batch of 500 orders under ``EXPLAIN (ANALYZE, BUFFERS)`` with JIT on
(the scans of ``crm_points_order``: estimated and actual rows per order), then the median wall
time of ``_follow_merged_profiles``, ``_orders_to_reverse`` and the whole ``sync_orders`` over
7 batches of 500, with JIT on and off, each run rolled back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backfill import setup_database

LEDGER = """
INSERT INTO crm_profile (tenant_id, email, first_name, last_name, is_active, customer_language,
  customer_country, language, country, time_zone, orders_count, cancelled_orders_count,
  spent_gross_minor, spent_net_minor, refunded_minor, average_order_minor, refund_rate,
  totals_by_currency, channels, payment_methods, categories, products, created_at, updated_at)
SELECT 1, 'c' || i || '@example.com', '', '', true, '', '', '', '', '', 1, 0, 4000, 3300, 0,
  4000, 0, '{}', '{}', '{}', '{}', '{}', now(), now()
FROM generate_series(1, %(orders)s) AS i;
INSERT INTO crm_order (tenant_id, profile_id, order_id, number, email, channel, currency, status,
  language, country, created_at, updated_at, issued_at, total_gross_minor, total_net_minor,
  charged_minor, refunded_minor, fx_rate, base_currency, total_gross_base_minor,
  total_net_base_minor, refunded_base_minor, payment_methods, lines, address_key, payment_keys)
SELECT 1, p.id, encode(convert_to('Order:' || gen_random_uuid(), 'UTF8'), 'base64'), p.id::text,
  p.email, 'default', 'EUR', CASE WHEN p.id %% 50 = 0 THEN 'CANCELED' ELSE 'FULFILLED' END, '',
  '', now() - p.id %% 700 * interval '1 day', now(), now(), 4000, 3300, 4000,
  CASE WHEN p.id %% 10 = 3 THEN 1000 * (1 + p.id %% 4) ELSE 0 END, 1, 'EUR', 4000, 3300,
  CASE WHEN p.id %% 10 = 3 THEN 1000 * (1 + p.id %% 4) ELSE 0 END, '{}', '[]', '', '{}'
FROM crm_profile p ORDER BY p.id;
INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source, source_id,
  created_at, available_at, reason, actor, data)
SELECT 1, o.profile_id, k.kind, k.points, 'order', o.order_id || k.suffix, now(),
  o.created_at + interval '30 days', '', '', '{}'
FROM crm_order o
CROSS JOIN LATERAL (VALUES ('earn', 40, '', true),
                           ('reverse', -o.refunded_minor / 100, '@' || o.refunded_minor,
                            o.refunded_minor > 0),
                           ('void', -40, '', o.status = 'CANCELED')) AS k(kind, points, suffix, due)
WHERE k.due ORDER BY o.id, k.kind;
"""

STATISTICS = {
    "without": "DROP STATISTICS IF EXISTS crm_points_order_key",
    "with": "CREATE STATISTICS IF NOT EXISTS crm_points_order_key"
    " ON (split_part(source_id::text, '@', 1)) FROM crm_points_entry",
}


def batch(first: int) -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT order_id FROM crm_order WHERE tenant_id = 1 AND id BETWEEN %s AND %s",
            [first, first + 499],
        )
        return sorted(row[0] for row in cur.fetchall())


def rolled_back(call: Callable[[], object], jit: str) -> float:
    """Milliseconds of ``call`` in a transaction rolled back after it."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL jit = {jit}")
        start = time.perf_counter()
        call()
        took = (time.perf_counter() - start) * 1000
        transaction.set_rollback(True)
    return took


def lookups(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if node.get("Index Name") == "crm_points_order":
        yield node
    for child in node.get("Plans", ()):
        yield from lookups(child)


def explained(name: str, ids: list[str]) -> str:
    """One batch of a statement under EXPLAIN (ANALYZE, BUFFERS), JIT on, as a line."""
    from django.db import connection, transaction

    from saleor_crm_plugin.loyalty import ledger

    plans: list[dict[str, Any]] = []

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> None:
        execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params, many, context)
        plans.append(context["cursor"].fetchone()[0][0])

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = on")
        with connection.execute_wrapper(wrapper):
            getattr(ledger, name)(1, ids)
        transaction.set_rollback(True)
    (plan,) = plans
    scans = ", ".join(
        f"{n['Plan Rows']:,} estimated / {n['Actual Rows']} actual x {n['Actual Loops']}"
        for n in lookups(plan["Plan"])
    )
    jit = f"{plan['JIT']['Timing']['Total']:.1f} ms" if "JIT" in plan else "none"
    return (
        f"cost {plan['Plan']['Total Cost']:,.0f}, execution {plan['Execution Time']:.1f} ms,"
        f" JIT {jit}; per order: {scans}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=900_000)
    parser.add_argument("--batches", type=int, default=7)
    args = parser.parse_args()
    setup_database()
    from django.db import connection

    from saleor_crm_plugin.loyalty import ledger
    from saleor_crm_plugin.models import Tenant

    tenant = Tenant.objects.create(
        pk=1, saleor_api_url="http://bench/graphql/", base_currency="EUR"
    )
    with connection.cursor() as cur:
        cur.execute(LEDGER, {"orders": args.orders})
        cur.execute("VACUUM ANALYZE crm_profile, crm_order, crm_points_entry")
        cur.execute("SELECT count(*) FROM crm_points_entry")
        entries = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        print(f"PostgreSQL {cur.fetchone()[0]}, {args.orders:,} orders, {entries:,} entries")
    step = max(500, args.orders // (args.batches + 1))
    batches = [batch(1 + step * (i + 1)) for i in range(args.batches)]
    steps: dict[str, Callable[[list[str]], object]] = {
        "_follow_merged_profiles": lambda ids: ledger._follow_merged_profiles(1, ids),
        "_orders_to_reverse": lambda ids: ledger._orders_to_reverse(1, ids),
        "sync_orders": lambda ids: ledger.sync_orders(tenant, ids),
    }
    for state, sql in STATISTICS.items():
        with connection.cursor() as cur:
            cur.execute(sql)
            cur.execute("ANALYZE crm_points_entry")
        print(f"\n{state} the statistics:")
        for name in ("_follow_merged_profiles", "_orders_to_reverse"):
            print(f"  {name}: {explained(name, batches[len(batches) // 2])}")
        for name, call in steps.items():
            for ids in batches:  # once untimed: the pages in memory, as for a running store
                rolled_back(partial(call, ids), "off")
            medians = {
                jit: statistics.median(rolled_back(partial(call, ids), jit) for ids in batches)
                for jit in ("on", "off")
            }
            print(
                f"  {name}: median of {len(batches)} batches of 500,"
                f" JIT on {medians['on']:.1f} ms, off {medians['off']:.1f} ms"
            )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    raise SystemExit(main())

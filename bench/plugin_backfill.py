"""``crm_backfill`` in plugin mode on a Saleor 3.24 database holding many orders.

Runs only where ``saleor`` is importable (as ``bench/plugin_overhead.py``); it never builds
Saleor. Usage::

    SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/saleor_bench \\
      python bench/plugin_backfill.py --orders 100000 [--reuse-db]

Saleor's own fixtures make one real order with lines (and its customer); SQL then copies that
order ``--orders`` times in Saleor's tables (``order_order``, ``order_orderline``), each copy a
guest order of its own e-mail address (one buyer per order: the most profiles for the orders).
Timed: ``backfill()`` of the plugin's tenant, as ``python manage.py crm_backfill`` runs it
(every order's body built in PostgreSQL from Saleor's tables, stored in the inbox, applied).

**Floor**, in the same run: what any export of the same data pays at least: one statement
reading every order with its lines and writing one JSON document per order into a plain table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    import importlib.util

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--reuse-db", action="store_true", help="pytest-django's --reuse-db")
    args = parser.parse_args()
    if importlib.util.find_spec("saleor") is None:
        print("saleor is not importable here: run this inside a Saleor 3.24 environment")
        return 2
    os.environ["CRM_BENCH_ORDERS"] = str(args.orders)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ["DJANGO_SETTINGS_MODULE"] = "saleor.tests.settings"
    import django
    import pytest

    django.setup()
    options = [
        f"{__file__}::test_backfill_of_a_large_store",
        "--ds=saleor.tests.settings",
        "--nomigrations",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.in_saleor.conftest",
        "-q",
        "-s",
    ]
    if args.reuse_db:
        options.append("--reuse-db")
    return int(pytest.main(options))


try:
    import pytest as _pytest

    _bench = _pytest.mark.django_db(transaction=True, databases=["default", "replica"])
except ImportError:  # pragma: no cover
    _bench = lambda f: f  # noqa: E731


def _columns(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
        " ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in cur.fetchall()]


@_bench
def test_backfill_of_a_large_store(crm, order_with_lines):
    from django.db import connection

    from saleor_crm_plugin.backfill.services import backfill
    from saleor_crm_plugin.models import OrderRecord, Profile
    from saleor_crm_plugin.tenants.services import plugin_tenant

    n = int(os.environ.get("CRM_BENCH_ORDERS", "100000"))
    order = order_with_lines
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE copies AS SELECT g, gen_random_uuid() AS id"
            " FROM generate_series(1, %s) g",
            [n],
        )
        cols = _columns(cur, "order_order")
        made = {
            "id": "c.id",
            "number": "(SELECT max(number) FROM order_order) + c.g",
            "user_email": "'buyer' || c.g || '@example.com'",
            "user_id": "NULL",
            "checkout_token": "''",
            "created_at": "o.created_at - (c.g || ' minutes')::interval",
            "updated_at": "o.updated_at - (c.g || ' minutes')::interval",
        }
        cur.execute(
            f"INSERT INTO order_order ({', '.join(cols)})"
            f" SELECT {', '.join(made.get(col, 'o.' + col) for col in cols)}"
            " FROM copies c, order_order o WHERE o.id = %s",
            [order.pk],
        )
        cols = _columns(cur, "order_orderline")
        made = {"id": "gen_random_uuid()", "order_id": "c.id"}
        cur.execute(
            f"INSERT INTO order_orderline ({', '.join(cols)})"
            f" SELECT {', '.join(made.get(col, 'l.' + col) for col in cols)}"
            " FROM copies c, order_orderline l WHERE l.order_id = %s",
            [order.pk],
        )
        cur.execute("ANALYZE order_order; ANALYZE order_orderline")
        cur.execute("SELECT count(*) FROM order_orderline")
        (lines,) = cur.fetchone()
    print(f"\n{n + 1} orders, {lines} lines made in {time.perf_counter() - started:.1f} s")

    with connection.cursor() as cur:
        started = time.perf_counter()
        cur.execute("CREATE TEMP TABLE floor_export (id uuid, doc text)")
        cur.execute(
            "INSERT INTO floor_export SELECT o.id, json_build_object('order', row_to_json(o),"
            " 'lines', (SELECT json_agg(l) FROM order_orderline l WHERE l.order_id = o.id))::text"
            " FROM order_order o"
        )
        floor = time.perf_counter() - started

    tenant = plugin_tenant("USD")
    started = time.perf_counter()
    summary = backfill(tenant)
    took = time.perf_counter() - started
    orders = OrderRecord.objects.count()
    profiles = Profile.objects.count()
    assert orders == n + 1, orders
    print(f"summary: { {k: (r.fetched, r.done) for k, r in summary.resources.items()} }")
    print(
        f"backfill: {took:.1f} s for {orders} orders, {profiles} profiles"
        f" ({orders / took:.0f} orders/s)"
    )
    print(f"floor (one export statement): {floor:.1f} s; ratio {took / floor:.2f}")
    print(f"1M orders at this rate: {1_000_000 / (orders / took) / 60:.1f} min")
    print("load:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    sys.exit(main())

"""How the planner costs the ledger's lookup of an order's entries (ledger.py) on a store
with a real ledger: at the order's own few entries, not at a share of the whole ledger.

Through the partial expression index ``crm_points_order`` alone, PostgreSQL took 0.5% of the
ledger per order (it reads no statistics of a partial index): at 1M entries a batch of 500
orders was costed past the JIT thresholds and spent ~265 ms compiling for ~10 ms of work.
Migration 0035's expression statistics give it the real count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from saleor_crm_plugin.loyalty import ledger

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 25_000  # 28,000 entries: 0.5% of them is 140 rows an order, against one or two

# 2,500 customers with ten orders each; every tenth order partly refunded (an earn and a
# reversal ``<order>@<refunded>``), every fiftieth cancelled (an earn and a void).
LEDGER = """
INSERT INTO crm_profile (tenant_id, email, first_name, last_name, is_active, customer_language,
  customer_country, language, country, time_zone, orders_count, cancelled_orders_count,
  spent_gross_minor, spent_net_minor, refunded_minor, average_order_minor, refund_rate,
  totals_by_currency, channels, payment_methods, categories, products, created_at, updated_at)
SELECT %(tenant)s, 'c' || i || '@example.com', '', '', true, '', '', '', '', '', 10, 0, 40000,
  33000, 0, 4000, 0, '{}', '{}', '{}', '{}', '{}', now(), now()
FROM generate_series(1, %(orders)s / 10) AS i;
INSERT INTO crm_order (tenant_id, profile_id, order_id, number, email, channel, currency, status,
  language, country, created_at, updated_at, issued_at, total_gross_minor, total_net_minor,
  charged_minor, refunded_minor, fx_rate, base_currency, total_gross_base_minor,
  total_net_base_minor, refunded_base_minor, payment_methods, lines, address_key, payment_keys)
SELECT %(tenant)s, p.id, encode(convert_to('Order:' || o.i, 'UTF8'), 'base64'), o.i::text,
  p.email, 'default', 'EUR', CASE WHEN o.i %% 50 = 0 THEN 'CANCELED' ELSE 'FULFILLED' END, '',
  '', now() - o.i %% 700 * interval '1 day', now(), now(), 4000, 3300, 4000,
  CASE WHEN o.i %% 10 = 3 THEN 1000 ELSE 0 END, 1, 'EUR', 4000, 3300,
  CASE WHEN o.i %% 10 = 3 THEN 1000 ELSE 0 END, '{}', '[]', '', '{}'
FROM generate_series(1, %(orders)s) AS o(i)
JOIN crm_profile p ON p.tenant_id = %(tenant)s AND p.email = 'c' || (o.i %% (%(orders)s / 10) + 1)
  || '@example.com';
INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source, source_id,
  created_at, available_at, reason, actor, data)
SELECT o.tenant_id, o.profile_id, k.kind, k.points, 'order', o.order_id || k.suffix, now(),
  o.created_at + interval '14 days', '', '', '{}'
FROM crm_order o
CROSS JOIN LATERAL (VALUES ('earn', 40, '', true),
                           ('reverse', -10, '@1000', o.refunded_minor > 0),
                           ('void', -40, '', o.status = 'CANCELED')) AS k(kind, points, suffix, due)
WHERE o.tenant_id = %(tenant)s AND k.due;
"""


def explained(plans: list[dict[str, Any]]) -> Callable[..., Any]:
    """An execute wrapper that plans each statement instead of running it (``EXPLAIN (FORMAT
    JSON)``) and keeps the plan."""

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> None:
        execute("EXPLAIN (FORMAT JSON) " + sql, params, many, context)
        plans.append(context["cursor"].fetchone()[0][0]["Plan"])

    return wrapper


def order_lookups(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every scan of ``crm_points_order`` in a plan."""
    if node.get("Index Name") == "crm_points_order":
        yield node
    for child in node.get("Plans", ()):
        yield from order_lookups(child)


def test_an_orders_entries_are_costed_at_their_own_count_on_a_big_ledger(tenant):
    with connection.cursor() as cur:
        cur.execute(LEDGER, {"tenant": tenant.pk, "orders": ORDERS})
        cur.execute("ANALYZE crm_profile, crm_order, crm_points_entry")
        cur.execute(
            "SELECT order_id FROM crm_order WHERE tenant_id = %s ORDER BY id LIMIT 500 OFFSET 9000",
            [tenant.pk],
        )
        batch = [row[0] for row in cur.fetchall()]
        cur.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM crm_points_entry"
            " WHERE source = 'order' AND split_part(source_id, '@', 1) = ANY(%s)"
            " GROUP BY split_part(source_id, '@', 1)) x",
            [batch],
        )
        most = cur.fetchone()[0]
        cur.execute("SELECT current_setting('jit_above_cost')::float")
        jit_above_cost = cur.fetchone()[0]
    plans: list[dict[str, Any]] = []
    with connection.execute_wrapper(explained(plans)):
        ledger._follow_merged_profiles(tenant.pk, batch)
        ledger._orders_to_reverse(tenant.pk, batch)
    assert most == 2 and len(plans) == 2
    for plan in plans:
        lookups = list(order_lookups(plan))
        assert lookups
        # Each order's lookup expects at most what an order has, not 140 rows.
        assert max(node["Plan Rows"] for node in lookups) <= most
        # So a batch stays clear of JIT compilation, which costs more than the work itself
        # (without the statistics: 117,000 for _follow_merged_profiles, past the 100,000 of
        # jit_above_cost already at this size).
        assert plan["Total Cost"] < jit_above_cost

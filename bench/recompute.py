"""Full recompute of scores against a bare GROUP BY over the same orders, in the same run.

Usage (PostgreSQL from ``DATABASE_URL``; that database is dropped, recreated and dropped again
at the end unless ``--keep``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_seg \\
        .venv/bin/python bench/recompute.py --customers 100000

To measure a large store more than once, generate it once and keep it (``--keep``), then run
again with ``--reuse --keep``: a database that already holds the generated store of that size is
migrated and its scores, boundaries and stage history emptied (so the first recompute is a
first one again), but not regenerated. Without such a store, ``--reuse`` generates it as usual.

The store is generated set-based with ``generate_series``: N profiles and 5N orders (any
customer may have none or many), spread over two years, 90% fulfilled, 3% cancelled, 3%
returned, 4% unfulfilled, 5% partly refunded, a few Stripe disputes.

Each customer's figures that the inbox keeps on the profile (purchases, first and last purchase,
spend, refunds, returns, cancellations) are filled by the product's own ``refresh_profiles``, in
batches of 10,000 customers, as the inbox would have as the orders arrived (not timed as part of
the recompute; the time is reported).

Then the **floor**, a bare ``GROUP BY profile_id`` over the same orders (count, last order,
spend) written into a temporary table (median of three), and the **full recompute** (scores,
quintiles, groups, quadrants, stages, flags for every profile) three times: the first (every
customer written), a repeat at the same moment (nothing moved) and one a day later (what the
nightly run meets), all from the kept figures; then once from every order again
(``--from-orders``). Also: the incremental refresh of one customer's scores (what each inbox
batch adds), segment previews ("spent over 500 EUR in the last 90 days and country in DE,
AT, CH"; an ``any`` of three period conditions), and the KPI reports (median of three each):
the headline figures of a year (customers, new, repeat, orders, revenue), every figure of
``crmKpis`` for a year by month and a quarter by week, ``crmCohorts`` and
``crmCurrencyExposure`` for a year.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
BENCH_API_URL = "http://bench.example/graphql/"

PROFILES = """
INSERT INTO crm_profile (tenant_id, user_id, email, first_name, last_name, is_active,
  customer_language, customer_country, language, country, time_zone, orders_count,
  cancelled_orders_count, spent_gross_minor, spent_net_minor, refunded_minor,
  average_order_minor, refund_rate, totals_by_currency, channels, payment_methods, categories,
  products, created_at, updated_at)
SELECT %(tenant)s, 'u' || i, 'c' || i || '@example.com', '', '', true, '',
  (ARRAY['DE','AT','CH','FR','PL','US','JP','GB'])[1 + i %% 8], '',
  (ARRAY['DE','AT','CH','FR','PL','US','JP','GB'])[1 + i %% 8], '', 0, 0, 0, 0, 0, 0, 0,
  '{}'::jsonb, '{}', '{}', '{}', '{}', now(), now()
FROM generate_series(1, %(n)s) AS i
"""

ORDERS = """
INSERT INTO crm_order (tenant_id, profile_id, order_id, number, email, channel, currency, status,
  language, country, created_at, updated_at, issued_at, total_gross_minor, total_net_minor,
  charged_minor, refunded_minor, fx_rate, base_currency, total_gross_base_minor,
  total_net_base_minor, refunded_base_minor, payment_methods, lines, address_key, payment_keys,
  psp_references)
SELECT %(tenant)s, p.first + (hashint %% %(n)s), 'o' || i, i::text, '', 'default', 'EUR',
  CASE WHEN r < 0.03 THEN 'CANCELED' WHEN r < 0.06 THEN 'RETURNED'
       WHEN r < 0.10 THEN 'UNFULFILLED' ELSE 'FULFILLED' END,
  '', '', at, at, at, total, total, total, refund, 1, 'EUR', total, total, refund,
  '{}', '[]'::jsonb, '', '{}', ARRAY['pi_' || i]::varchar(191)[]
FROM (
  SELECT i, abs(hashtext(i::text))::bigint AS hashint, random() AS r,
         %(now)s - make_interval(secs => random() * 730 * 86400) AS at,
         (1000 + random() * 30000)::bigint AS total
  FROM generate_series(1, %(orders)s) AS i
) g
CROSS JOIN LATERAL (SELECT CASE WHEN random() < 0.05 THEN (g.total * 0.3)::bigint ELSE 0 END
                    AS refund) x
CROSS JOIN (SELECT min(id) AS first FROM crm_profile WHERE tenant_id = %(tenant)s) p
"""

DISPUTES = """
INSERT INTO crm_stripe_dispute (tenant_id, dispute_id, charge_id, payment_intent, currency,
  amount_minor, status, stage, event_created, updated_at)
SELECT %(tenant)s, 'dp_' || i, 'ch_' || i, 'pi_' || (i * 997), 'EUR', 1000, 'lost',
  CASE WHEN i %% 2 = 0 THEN 'lost' ELSE 'open' END, 1, now()
FROM generate_series(1, %(disputes)s) AS i
"""

FLOOR = """
CREATE TEMP TABLE bench_floor AS
SELECT profile_id, count(*) AS n, max(created_at) AS last_at,
       sum(total_gross_base_minor - refunded_base_minor) AS value
FROM crm_order WHERE tenant_id = %(tenant)s AND profile_id IS NOT NULL GROUP BY profile_id
"""

DACH = {
    "all": [
        {"field": "spent_in_period", "days": 90, "op": "gt", "value": 500},
        {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]},
    ]
}
# Three period conditions (30 and 365 days) in an ``any``: two grouped passes, every profile.
ANY3 = {
    "any": [
        {"field": "orders_in_period", "days": 30, "op": "gte", "value": 2},
        {"field": "spent_in_period", "days": 365, "op": "gt", "value": 1000},
        {"field": "orders_in_period", "days": 365, "op": "gte", "value": 6},
    ]
}


def setup_database(url: str, fresh: bool = True) -> None:
    import django
    import psycopg

    name = url.rsplit("/", 1)[1]
    if fresh:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reusable_store(url: str, customers: int) -> bool:
    """Whether the database already holds exactly the store this script generates for
    ``customers`` (and nothing else): one bench tenant, N profiles, 5N orders."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            found = conn.execute(
                "SELECT (SELECT array_agg(saleor_api_url) FROM crm_tenant),"
                " (SELECT count(*) FROM crm_profile), (SELECT count(*) FROM crm_order)"
            ).fetchone()
    except psycopg.Error:  # no such database, or not migrated
        return False
    return found == ([BENCH_API_URL], customers, customers * 5)


def reset_outputs() -> None:
    """Empty what the measured work writes (the bench database holds one store), so a reused
    store's first recompute writes every customer, as on a freshly generated one."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE crm_customer_scores, crm_stage_change, crm_score_boundaries,"
            " crm_stage_history_start"
        )
        cur.execute("VACUUM ANALYZE crm_profile")
        cur.execute("VACUUM ANALYZE crm_order")


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def keep_figures(tenant) -> float:  # type: ignore[no-untyped-def]
    """Fill each customer's kept figures as the inbox does (``refresh_profiles`` over the
    customers of each batch), which the generated store skipped; untimed as a recompute. A reused
    store has them already. Returns the seconds it took (0 when there was nothing to do)."""
    from django.db import connection

    from saleor_crm_plugin.profiles.aggregates import refresh_profiles

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM crm_profile WHERE orders_count > 0 AND tenant_id = %s",
            [tenant.pk],
        )
        if cur.fetchone()[0]:
            return 0.0
        cur.execute("SELECT id FROM crm_profile WHERE tenant_id = %s ORDER BY id", [tenant.pk])
        ids = [row[0] for row in cur.fetchall()]
    started = time.perf_counter()
    for at in range(0, len(ids), 10_000):
        refresh_profiles(ids[at : at + 10_000])
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE crm_profile")
    return time.perf_counter() - started


def run(customers: int, kpis: bool = True, reuse: bool = False) -> dict[str, object]:
    from django.db import connection, transaction

    from saleor_crm_plugin.models import CustomerScores, OrderRecord, Profile
    from saleor_crm_plugin.segments.queries import preview
    from saleor_crm_plugin.segments.scores import recompute, refresh_scores
    from saleor_crm_plugin.tenants.services import register_tenant

    tenant = register_tenant(api_url=BENCH_API_URL, app_token="bench", base_currency="EUR")
    params = {"tenant": tenant.pk, "n": customers, "orders": customers * 5, "now": NOW,
              "disputes": max(1, customers // 1000)}  # fmt: skip
    started = time.perf_counter()
    if reuse:
        reset_outputs()
    else:
        with connection.cursor() as cur:
            cur.execute(PROFILES, params)
            cur.execute(ORDERS, params)
            cur.execute(DISPUTES, params)
        with connection.cursor() as cur:  # VACUUM cannot run in a transaction: autocommit here
            cur.execute("VACUUM ANALYZE crm_profile")  # also flushes the GIN pending list
            cur.execute("VACUUM ANALYZE crm_order")
    generate_s = time.perf_counter() - started
    kept_s = keep_figures(tenant)
    load_before = [round(x, 1) for x in os.getloadavg()]

    def floor() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(FLOOR, params)
            cur.execute("DROP TABLE bench_floor")

    from datetime import timedelta

    floors = [timed(floor) for _ in range(3)]
    first_s = timed(lambda: recompute(tenant, NOW))  # every customer written
    same_s = timed(lambda: recompute(tenant, NOW))  # nothing moved: nothing rewritten
    moved: list[int] = []
    next_s = timed(lambda: moved.append(recompute(tenant, NOW + timedelta(days=1))))
    # The same scoring from every order again (``saleor-crm recompute --from-orders``).
    from_orders_s = timed(lambda: recompute(tenant, NOW + timedelta(days=1), from_orders=True))
    ids = list(
        Profile.objects.filter(tenant=tenant).order_by("?").values_list("pk", flat=True)[:50]
    )
    incremental = [timed(lambda pk=pk: refresh_scores(tenant, [pk], NOW)) for pk in ids]
    previews = [timed(lambda: preview(tenant, DACH, NOW, 10)) for _ in range(5)]
    found = preview(tenant, DACH, NOW, 10).count
    any3 = [timed(lambda: preview(tenant, ANY3, NOW, 10)) for _ in range(5)]
    any3_found = preview(tenant, ANY3, NOW, 10).count
    reports = kpi_latencies(tenant) if kpis else {}
    floor_s = statistics.median(floors)
    return {
        # The machine's load average (1, 5, 15 minutes) after generating the store and at the end.
        "load_before": load_before,
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "customers": customers,
        "reused_store": reuse,
        "orders": OrderRecord.objects.count(),
        "scored": CustomerScores.objects.count(),
        "generate_s": round(generate_s, 1),
        "floor_group_by_s": round(floor_s, 2),
        "first_recompute_s": round(first_s, 2),
        "first_ratio": round(first_s / floor_s, 2),
        "repeat_same_day_s": round(same_s, 2),
        "repeat_ratio": round(same_s / floor_s, 2),
        "next_day_s": round(next_s, 2),
        "next_day_ratio": round(next_s / floor_s, 2),
        "next_day_changed": moved[0],
        "from_orders_s": round(from_orders_s, 2),
        "from_orders_ratio": round(from_orders_s / floor_s, 2),
        "kept_figures_filled_s": round(kept_s, 1),
        "incremental_ms_median": round(statistics.median(incremental) * 1000, 1),
        "preview_ms_median": round(statistics.median(previews) * 1000, 1),
        "preview_count": found,
        "preview_any3_ms_median": round(statistics.median(any3) * 1000, 1),
        "preview_any3_count": any3_found,
        **reports,
    }


def kpi_latencies(tenant) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from datetime import date

    from saleor_crm_plugin.kpis.cohorts import cohorts
    from saleor_crm_plugin.kpis.exposure import currency_exposure
    from saleor_crm_plugin.kpis.queries import Report, kpis
    from saleor_crm_plugin.kpis.types import Slice

    year = Slice.of_days(date(2025, 11, 1), date(2026, 11, 1), "Europe/Berlin")
    quarter = Slice.of_days(date(2026, 8, 1), date(2026, 11, 1), "Europe/Berlin")
    runs = {
        "kpis_year_headline": lambda: Report(tenant, year, NOW).summary,
        "kpis_year_monthly_all": lambda: kpis(tenant, year, NOW, "month"),
        "kpis_quarter_weekly_all": lambda: kpis(tenant, quarter, NOW, "week"),
        "cohorts_year": lambda: cohorts(tenant, year, NOW),
        "currency_exposure_year": lambda: currency_exposure(tenant, year, NOW),
    }
    return {
        f"{name}_s": round(statistics.median(timed(work) for _ in range(3)), 2)
        for name, work in runs.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the store already in the database if it is the one of this size",
    )
    parser.add_argument("--no-kpis", action="store_true", help="skip the KPI reports")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("set DATABASE_URL to a PostgreSQL database the benchmark may drop")
    reuse = args.reuse and reusable_store(url, args.customers)
    setup_database(url, fresh=not reuse)
    try:
        report = run(args.customers, kpis=not args.no_kpis, reuse=reuse)
    finally:
        if not args.keep:
            drop_database(url)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

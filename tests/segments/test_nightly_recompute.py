"""The nightly recompute's shortcuts give the scores a plain computation gives: in parallel
workers or one process, quintiles from windows around the last ones or from sorting every
customer, stages and cadences on their rounding edges (segments/scores.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from saleor_crm_plugin.models import CustomerScores, ScoreBoundaries
from saleor_crm_plugin.segments import scores
from saleor_crm_plugin.segments.scores import recompute

from .store import NOW, day, place, profile_id

pytestmark = pytest.mark.django_db(transaction=True)

# Buyers with the figures the inbox keeps, drawn at random (seeded) with many ties: whole days,
# spend in whole tens of euros, 0 to 8 purchases; a few refunds, returns and cancellations.
BUYERS = """
INSERT INTO crm_profile (tenant_id, user_id, email, first_name, last_name, is_active,
  customer_language, customer_country, language, country, time_zone, orders_count,
  cancelled_orders_count, returned_orders_count, spent_gross_minor, spent_net_minor,
  refunded_minor, average_order_minor, refund_rate, totals_by_currency, channels,
  payment_methods, categories, products, first_order_at, last_order_at, created_at, updated_at)
SELECT %(tenant)s, 'u' || i, 'c' || i || '@example.com', '', '', true, '', 'DE', '', 'DE', '',
  n, CASE WHEN random() < 0.05 THEN 2 ELSE 0 END, CASE WHEN n > 0 AND random() < 0.1 THEN 1 ELSE 0 END,
  spent, spent, CASE WHEN random() < 0.1 THEN spent / 4 ELSE 0 END, 0, 0, '{}', '{}', '{}', '{}',
  '{}', CASE WHEN n > 0 THEN last_at - (n - 1) * gap END, CASE WHEN n > 0 THEN last_at END,
  now(), now()
FROM (
  SELECT i, n, CASE WHEN n > 0 THEN (1 + floor(random() * 60)) * 1000 * n ELSE 0 END AS spent,
    %(now)s - floor(random() * 400) * interval '1 day' AS last_at,
    (1 + floor(random() * 90)) * interval '1 day' + floor(random() * 3) * interval '1 hour' AS gap
  FROM (SELECT i, floor(random() * 9)::int AS n FROM generate_series(1, %(count)s) AS i) g
) x
"""  # noqa: E501


def add_buyers(tenant, count: int, seed: float) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [seed])
        cur.execute(BUYERS, {"tenant": tenant.pk, "count": count, "now": NOW})


def a_night_of_orders(tenant, one_in: int = 23) -> None:
    """One customer in ``one_in`` buys again the next day for 40 EUR (some for the first time)."""
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE crm_profile SET orders_count = orders_count + 1,"
            " first_order_at = COALESCE(first_order_at, %(at)s), last_order_at = %(at)s,"
            " spent_gross_minor = spent_gross_minor + 4000 WHERE tenant_id = %(tenant)s"
            " AND id %% %(one_in)s = 0",
            {"at": NOW + timedelta(days=1), "tenant": tenant.pk, "one_in": one_in},
        )


def stored() -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Every scores row, stage change and boundary (stage changes without their ids)."""
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM crm_customer_scores ORDER BY profile_id")
        rows = cur.fetchall()
        cur.execute(
            "SELECT profile_id, from_stage, to_stage, changed_at FROM crm_stage_change"
            " ORDER BY profile_id, changed_at"
        )
        changes = cur.fetchall()
        cur.execute("SELECT * FROM crm_score_boundaries")
        return rows, changes, cur.fetchall()


def test_the_nightly_recompute_scores_the_same_in_parallel_workers_as_in_one_process(
    tenant, settings
):
    add_buyers(tenant, 3000, 0.25)
    runs = {}
    with connection.cursor() as cur:
        # Let the planner split even this small store between workers (8 MB by default).
        cur.execute("SET min_parallel_table_scan_size = 0")
        cur.execute("CREATE TABLE test_kept AS SELECT * FROM crm_profile")
    try:
        for workers in (0, 2):
            settings.CRM_RECOMPUTE_PARALLEL_WORKERS = workers
            with connection.cursor() as cur:  # the same store and no scores for each run
                cur.execute("TRUNCATE crm_customer_scores, crm_stage_change, crm_score_boundaries")
                cur.execute("DELETE FROM crm_profile")
                cur.execute("INSERT INTO crm_profile SELECT * FROM test_kept")
            moved = [recompute(tenant, NOW + timedelta(days=d)) for d in (0, 0, 1, 30)]
            a_night_of_orders(tenant)
            moved += [recompute(tenant, NOW + timedelta(days=d)) for d in (2, 200)]
            runs[workers] = (moved, stored())
        # The read that finds who moved is planned for parallel workers when they are allowed,
        # on this store's statistics (not those an earlier test left for nearly empty tables).
        with connection.cursor() as cur:
            cur.execute("ANALYZE crm_profile, crm_customer_scores, crm_order")
        with transaction.atomic(), connection.cursor() as cur:
            scores._allow_parallel(2)
            cur.execute(
                "EXPLAIN " + scores._STAGE_MOVED.format(rows=scores._KEPT_ROWS),
                {"tenant": tenant.pk, "now": NOW, "scored": True, "r_bounds": [1.0],
                 "f_bounds": [1.0], "m_bounds": [1.0], "store_cadence": 30, "mode": "cadence",
                 "at_risk": 2, "dormant": 4, "lost": 8, "refund_limit": 1, "return_limit": 1,
                 "cancel_limit": 2},
            )  # fmt: skip
            plan = "\n".join(row[0] for row in cur.fetchall())
    finally:
        with connection.cursor() as cur:
            cur.execute("RESET min_parallel_table_scan_size")
            cur.execute("DROP TABLE test_kept")
    assert "Workers Planned" in plan
    moved, rows = runs[2]
    assert runs[0] == runs[2]
    assert moved[0] > 2500 and moved[1] == 0 and all(moved[2:])
    assert len(rows[0]) == 3000 and rows[1]


def test_the_quintiles_from_windows_around_the_last_ones_are_those_of_a_full_sort(
    tenant, monkeypatch
):
    add_buyers(tenant, 3000, 0.5)
    recompute(tenant, NOW)  # the first: every customer sorted
    previous = ScoreBoundaries.objects.get(tenant=tenant)
    a_night_of_orders(tenant, one_in=150)

    def both() -> tuple:
        with transaction.atomic():
            full = scores._quantiles(tenant, scores._KEPT_ROWS, None)
            return scores._quantiles_near(tenant, scores._KEPT_ROWS, previous), full

    monkeypatch.setattr(scores, "QUINTILE_WINDOW", 0.05)
    monkeypatch.setattr(scores, "CADENCE_WINDOW", 0.05)
    near, full = both()
    assert full[0] != previous.recency  # the night moved the recency boundaries
    assert near == full  # to the bit, the store's median cadence too
    # A month of big spenders moves the monetary boundaries out of their windows: the recompute
    # then sorts every customer.
    with connection.cursor() as cur:
        cur.execute("UPDATE crm_profile SET spent_gross_minor = spent_gross_minor * 2")
    near, full = both()
    assert near is None
    recompute(tenant, NOW + timedelta(days=1))
    kept = ScoreBoundaries.objects.get(tenant=tenant)
    assert (kept.recency, kept.frequency, kept.monetary) == tuple(full[:3])
    assert kept.store_cadence_days == Decimal(str(round(full[3], 2)))


def test_a_stage_on_its_threshold_and_a_cadence_on_a_rounding_edge_are_exact(tenant):
    """kim bought 10 days apart: at risk past 2 x 10 days, not at exactly 20. lea bought 10 days
    and 432 seconds apart: a cadence of 10.005 days, stored as 10.01 (half up), and not
    rewritten by the next run."""
    place(tenant, "kim-0", "kim@example.de", 100, day(11, 1))
    place(tenant, "kim-1", "kim@example.de", 100, day(11, 11))
    place(tenant, "lea-0", "lea@example.de", 100, day(10, 1))
    place(tenant, "lea-1", "lea@example.de", 100, day(10, 11) + timedelta(seconds=432))
    kim, lea = profile_id("kim@example.de"), profile_id("lea@example.de")
    edge = day(11, 11) + timedelta(days=20)
    recompute(tenant, edge)
    assert CustomerScores.objects.get(profile_id=kim).stage == "active"
    assert CustomerScores.objects.get(profile_id=lea).cadence_days == Decimal("10.01")
    assert recompute(tenant, edge) == 0
    recompute(tenant, edge + timedelta(microseconds=1))
    assert CustomerScores.objects.get(profile_id=kim).stage == "at_risk"

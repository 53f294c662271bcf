"""RFM scores, groups, quadrants, stages and risk flags on the hand-built store (store.py).

Worked out by hand, with 5 buyers each score is ceil(5 * share of buyers at or below):
  recency  dan Feb 9 (1) < eve Jun 1 (2) < bob Oct 1 (3) < ann Nov 21 (4) < cem Nov 25 (5)
  frequency cem, eve 1 order (2/5 at or below: 2); bob, dan 2 (4/5: 4); ann 3 (5)
  monetary cem 50 (1) < dan 200 (2) < bob 400 (3) < eve 500 net of refund (4) < ann 900 (5)
FM = (F + M + 1) // 2: ann (5,5)=5, bob (4,3)=4, cem (2,1)=2, dan (4,2)=3, eve (2,4)=3.
Cadence, each customer's mean gap between purchases, (last - first) / (purchases - 1): ann
(Nov 21 - Nov 1) / 2 = 10 days, bob 30, dan 30; the store's, the median of those: 30 days.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.models import CustomerScores, LifecycleSettings, Profile, ScoreBoundaries
from saleor_crm_plugin.segments.scores import recompute, refresh_scores
from tests import recordings

from .store import NOW, build_store, day, place, profile_id

pytestmark = pytest.mark.django_db(transaction=True)

# Every figure of a customer's scores row (``changed_at`` too).
FIGURES = (
    "recency", "frequency", "monetary", "rfm_group", "quadrant", "stage", "cadence_days",
    "purchases", "value_minor", "last_purchase_at", "refund_rate", "return_rate",
    "cancelled_orders", "disputes", "disputes_lost", "risk_flags", "changed_at",
)  # fmt: skip


def scores() -> dict[str, CustomerScores]:
    return {s.profile.email: s for s in CustomerScores.objects.select_related("profile")}


def test_groups_and_scores_of_a_hand_built_store(tenant):
    build_store(tenant)
    assert recompute(tenant, NOW) == 6
    found = {e: (s.recency, s.frequency, s.monetary, s.rfm_group) for e, s in scores().items()}
    assert found == {
        "ann@example.de": (4, 5, 5, "champions"),
        "bob@example.at": (3, 4, 3, "loyal"),
        "cem@example.ch": (5, 2, 1, "promising"),
        "dan@example.fr": (1, 4, 2, "almost_lost"),
        "eve@example.de": (2, 2, 4, "at_risk"),
        "fay@example.de": (None, None, None, "prospects"),
    }


def test_quadrants_split_value_from_activity(tenant):
    build_store(tenant)
    recompute(tenant, NOW)
    assert {e: s.quadrant for e, s in scores().items()} == {
        "ann@example.de": "high_value_high_activity",  # M 5, R+F 9
        "bob@example.at": "high_value_high_activity",  # M 3, R+F 7
        "cem@example.ch": "low_value_high_activity",  # M 1, R+F 7
        "dan@example.fr": "low_value_low_activity",  # M 2, R+F 5
        "eve@example.de": "high_value_low_activity",  # M 4, R+F 4
        "fay@example.de": "",
    }


def test_stages_follow_each_customers_own_cadence(tenant):
    build_store(tenant)
    recompute(tenant, NOW)
    found = {e: (s.stage, s.cadence_days) for e, s in scores().items()}
    assert found == {
        "ann@example.de": ("active", Decimal("10.00")),  # 7 days, at risk after 20
        "bob@example.at": ("active", Decimal("30.00")),  # 58 days, at risk after 60
        "cem@example.ch": ("new", None),  # one order 3 days ago
        "dan@example.fr": ("lost", Decimal("30.00")),  # 292 days > 8 x 30
        "eve@example.de": ("dormant", None),  # 180 days: > 4 x 30 (store), <= 8 x 30
        "fay@example.de": ("", None),
    }
    # Eleven days later ann is past twice her own gap, bob not yet past twice his.
    recompute(tenant, NOW + timedelta(days=14))
    assert scores()["ann@example.de"].stage == "at_risk"  # 21 days > 20
    assert scores()["bob@example.at"].stage == "at_risk"  # 72 days > 60


def test_the_cadence_is_the_mean_gap_so_one_long_pause_counts(tenant):
    """gil bought on Jun 11, Jun 21, Jul 1 and Oct 9: gaps of 10, 10 and 100 days, so a mean
    gap of (Oct 9 - Jun 11) / 3 = 120 / 3 = 40 days where the median gap would be 10. His
    cancelled orders (Jun 16, Nov 1) are not visits. hal bought once, on Sep 1, and is measured
    against the store's cadence: the median of its repeat customers' cadences, gil's 40."""
    gil, hal = "gil@example.de", "hal@example.de"
    for i, d in enumerate((day(6, 11), day(6, 21), day(7, 1), day(10, 9))):
        place(tenant, f"gil-{i}", gil, 100, d)
    place(tenant, "gil-c0", gil, 100, day(6, 16), status="CANCELED")
    place(tenant, "gil-c1", gil, 100, day(11, 1), status="CANCELED")
    place(tenant, "hal-0", hal, 100, day(9, 1))
    recompute(tenant, NOW)
    found = {e: (s.stage, s.cadence_days, s.purchases) for e, s in scores().items()}
    assert found == {
        # Oct 9 -> Nov 28 is 50 days: within 2 x 40 = 80 (past 4 x 10 = 40: dormant by the
        # median).
        gil: ("active", Decimal("40.00"), 4),
        # Sep 1 -> Nov 28 is 88 days: past 2 x 40, within 4 x 40 (past 8 x 10: lost by the
        # median).
        hal: ("at_risk", None, 1),
    }
    assert ScoreBoundaries.objects.get(tenant=tenant).store_cadence_days == Decimal("40.00")
    # A month on, 81 days since gil's last purchase: past 2 x 40, within 4 x 40 (past 8 x 10:
    # lost by the median).
    recompute(tenant, NOW + timedelta(days=31))
    assert scores()[gil].stage == "at_risk"
    # He comes back on Dec 28: (Dec 28 - Jun 11) / 4 = 200 / 4 = 50 days, the same in the
    # per-event refresh as in the recompute (the median of 10, 10, 100, 80 would be 45).
    back = NOW + timedelta(days=30)
    place(tenant, "gil-4", gil, 100, back)
    refresh_scores(tenant, [profile_id(gil)], back + timedelta(days=1))
    assert (scores()[gil].stage, scores()[gil].cadence_days) == ("active", Decimal("50.00"))


def test_a_store_can_set_fixed_day_thresholds(tenant):
    build_store(tenant)
    LifecycleSettings.objects.create(
        tenant=tenant, mode="days", at_risk_after=5, dormant_after=50, lost_after=200
    )
    recompute(tenant, NOW)
    assert {e: s.stage for e, s in scores().items() if s.stage} == {
        "ann@example.de": "at_risk",  # 7 days
        "bob@example.at": "dormant",  # 58 days
        "cem@example.ch": "new",  # 3 days, one order
        "dan@example.fr": "lost",  # 292 days
        "eve@example.de": "dormant",  # 180 days
    }


def test_risk_flags_name_refunds_disputes_and_cancellations(tenant):
    build_store(tenant)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO crm_stripe_dispute (tenant_id, dispute_id, charge_id, payment_intent, "
            "currency, amount_minor, status, stage, event_created, updated_at) VALUES "
            "(%s, 'dp_1', 'ch_1', 'pi_ann_1', 'EUR', 30000, 'lost', 'lost', 1, now()), "
            "(%s, 'dp_2', 'ch_2', 'pi_ann_2', 'EUR', 30000, 'needs_response', 'open', 1, now())",
            [tenant.pk, tenant.pk],
        )
    recompute(tenant, NOW)
    found = {e: (s.risk_flags, s.disputes, s.cancelled_orders) for e, s in scores().items()}
    assert {e: v for e, v in found.items() if v != ([], 0, 0)} == {
        "ann@example.de": (["disputes", "dispute_lost"], 2, 0),
        "eve@example.de": (["refunds"], 0, 0),
        "fay@example.de": (["cancellations"], 0, 2),
    }
    assert scores()["eve@example.de"].refund_rate == Decimal("0.5000")


def test_a_returned_order_counts_toward_the_return_rate(tenant):
    build_store(tenant)
    place(
        tenant, "bob-0", "bob@example.at", 200, day(9, 1), status="RETURNED", country="AT",
        updated_at=day(9, 20),
    )  # fmt: skip
    recompute(tenant, NOW)
    bob = scores()["bob@example.at"]
    assert (bob.return_rate, bob.risk_flags) == (Decimal("0.5000"), ["returns"])


def test_a_new_order_moves_a_customer_with_the_last_boundaries(tenant):
    build_store(tenant)
    recompute(tenant, NOW)
    # dan comes back with a 1000 EUR order: R 5 (newest), F 3 orders >= ann's 3 -> 5,
    # M 1200 >= ann's 900 -> 5; FM 5 -> champions; cadence (Nov 27 - Jan 10) / 2 = 321 / 2
    # = 160.5 days (gaps of 30 and 291 days).
    place(tenant, "dan-2", "dan@example.fr", 1000, NOW - timedelta(days=1), country="FR")
    assert refresh_scores(tenant, [profile_id("dan@example.fr")], NOW) == 1
    dan = scores()["dan@example.fr"]
    assert (dan.recency, dan.frequency, dan.monetary, dan.rfm_group, dan.stage) == (
        5, 5, 5, "champions", "active",
    )  # fmt: skip
    assert dan.cadence_days == Decimal("160.50")
    assert scores()["ann@example.de"].rfm_group == "champions"  # others keep theirs


def test_recomputing_again_rewrites_only_customers_who_moved(tenant):
    build_store(tenant)
    assert recompute(tenant, NOW) == 6
    first = {e: (s.recency, s.frequency, s.monetary, s.stage) for e, s in scores().items()}
    assert recompute(tenant, NOW) == 0  # same orders, same day: nothing moved
    assert {e: (s.recency, s.frequency, s.monetary, s.stage) for e, s in scores().items()} == (
        first
    )
    # Two weeks on, ann (at risk after 20 days) and bob (after 60) move; cem's one order is
    # 17 days old, within the store's 2 x 30: still new. Nobody else changes.
    later = NOW + timedelta(days=14)
    assert recompute(tenant, later) == 2
    changed = {e for e, s in scores().items() if s.changed_at == later}
    assert changed == {"ann@example.de", "bob@example.at"}


def test_the_inbox_keeps_stages_fresh_without_a_recompute(tenant, rates):
    for item in recordings.deliveries():
        accept(tenant, event=item.event, body=item.body, headers={})
    drain()
    buyers = Profile.objects.filter(tenant=tenant, orders_count__gt=0).count()
    scored = CustomerScores.objects.filter(tenant=tenant).exclude(stage="")
    assert buyers > 0
    assert scored.count() == buyers
    # Never recomputed: no quintiles yet, so no RFM scores, but the stage is known.
    assert set(scored.values_list("rfm_group", flat=True)) == {""}
    assert set(scored.values_list("stage", flat=True)) <= {"new", "active"}


def test_the_recompute_command_and_the_nightly_task_score_every_store(tenant, capsys):
    from saleor_crm_plugin.cli import main
    from saleor_crm_plugin.segments.tasks import recompute_all

    build_store(tenant)
    assert main(["recompute"]) == 0
    assert "scores of 6 customers changed" in capsys.readouterr().out
    assert scores()["ann@example.de"].rfm_group == "champions"
    CustomerScores.objects.all().delete()
    assert recompute_all() == 6
    assert CustomerScores.objects.count() == 6
    assert main(["recompute", "--api-url", "https://elsewhere.example/graphql/"]) == 2


def test_a_recompute_waits_for_the_stores_inbox_batch(tenant):
    """An inbox batch holds the store's lock while it re-scores its customers; the recompute
    waits for it rather than upserting the same rows at once (which could deadlock)."""
    import threading
    import time

    from django.db import connections, transaction

    build_store(tenant)
    done = threading.Event()

    def run_recompute() -> None:
        try:
            recompute(tenant, NOW)
            done.set()
        finally:
            connections.close_all()

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(7321, %s)", [tenant.pk])  # as process_batch
        worker = threading.Thread(target=run_recompute)
        worker.start()
        waiting = False
        for _ in range(200):  # until the recompute is seen waiting on the advisory lock
            # Activity statistics are a snapshot per transaction: take a fresh one each time.
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND wait_event = 'advisory' AND datname = current_database()"
            )
            if cur.fetchone()[0]:
                waiting = True
                break
            time.sleep(0.05)
        assert (waiting, done.is_set()) == (True, False)
        assert CustomerScores.objects.count() == 0
    worker.join(timeout=60)
    assert done.is_set()
    assert CustomerScores.objects.count() == 6


def test_the_nightly_scoring_from_kept_figures_equals_scoring_from_every_order(tenant, rates):
    """The full recompute reads the figures the inbox keeps per customer; read from every stored
    order instead (``--from-orders``), every customer's row is the same: on the hand-built store
    plus returns, partial refunds, cancellations and a lost dispute, and on the recorded store."""
    from saleor_crm_plugin.models import StripeDispute

    build_store(tenant)
    place(tenant, "gil-0", "gil@example.de", 120, day(3, 1), status="RETURNED")
    place(tenant, "gil-1", "gil@example.de", 80, day(4, 1), status="PARTIALLY_RETURNED")
    place(tenant, "gil-2", "gil@example.de", 60, day(5, 1), status="CANCELED", refunded=60)
    place(tenant, "gil-3", "gil@example.de", 90, day(8, 1), refunded=30, psp=("pi_gil_3",))
    StripeDispute.objects.create(
        tenant=tenant, dispute_id="dp_gil", charge_id="", payment_intent="pi_gil_3",
        currency="EUR", amount_minor=9000, status="lost", stage="lost", event_created=1,
        updated_at=NOW,
    )  # fmt: skip
    for item in recordings.deliveries():
        accept(tenant, event=item.event, body=item.body, headers={})
    drain()

    def rows() -> dict[int, tuple]:
        return {
            s.profile_id: tuple(getattr(s, f) for f in FIGURES)
            for s in CustomerScores.objects.all()
        }

    CustomerScores.objects.all().delete()  # as of a first run: every row written by each
    recompute(tenant, NOW, from_orders=True)
    from_orders = rows()
    CustomerScores.objects.all().delete()
    recompute(tenant, NOW)
    kept = rows()
    assert kept == from_orders
    gil = kept[profile_id("gil@example.de")]
    assert dict(zip(FIGURES, gil, strict=True))["return_rate"] == Decimal("0.6667")  # 2 of 3
    assert "dispute_lost" in dict(zip(FIGURES, gil, strict=True))["risk_flags"]
    assert len(kept) > 10  # the recorded store's customers are in it too

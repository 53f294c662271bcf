"""The points ledger, through the same inbox and apply path as every delivery.

The recorded store (tests/data/rates.csv: 1 EUR = 1.05 USD = 0.32 KWD on the order days; base
EUR; 1 point per EUR; a 14-day return window): Anna's two orders, #21 (103.81 EUR, of which
5.51 refunded) and #23 (92.79 EUR).
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from saleor_crm_plugin.inbox.services import accept, drain, reprocess
from saleor_crm_plugin.loyalty.ledger import NotEnoughPoints, balance_of, redeem
from saleor_crm_plugin.models import PointsEntry, Profile
from tests import recordings

pytestmark = pytest.mark.django_db(transaction=True)
LATER = timezone.now() + timedelta(days=15)  # every recorded order is past its return window


def replay(tenant, seqs=None) -> None:
    for item in recordings.deliveries():
        if seqs is None or item.seq in seqs:
            accept(tenant, event=item.event, body=item.body, headers={})
    drain()


def profile(email: str) -> Profile:
    return Profile.objects.get(email=email)


def ledger(email: str) -> list[tuple[str, int]]:
    rows = PointsEntry.objects.filter(profile__email=email).order_by("id")
    return list(rows.values_list("kind", "points"))


def test_orders_earn_points_that_wait_for_the_return_window(tenant, rates):
    replay(tenant)
    anna = profile("anna.mueller@example.de")
    now, later = balance_of(anna.pk), balance_of(anna.pk, LATER)
    # 103 + 92 earned; the 5.51 EUR refund takes floor(103 * 5.51 / 103.81) = 5 back
    assert (now.available, now.pending) == (0, 190)
    assert (later.available, later.pending) == (190, 0)
    assert sorted(ledger("anna.mueller@example.de")) == [
        ("earn", 92),
        ("earn", 103),
        ("reverse", -5),
    ]


def test_a_full_refund_takes_back_exactly_what_the_order_earned(tenant, rates):
    replay(tenant)
    # 40.00 USD at 1.05 = 38.10 EUR: 38 points earned, all reversed by the full refund
    assert ledger("refund.me@example.com") == [("earn", 38), ("reverse", -38)]
    assert balance_of(profile("refund.me@example.com").pk).total == 0


def test_a_cancellation_voids_what_the_order_earned(tenant, rates):
    theirs = [i.seq for i in recordings.deliveries() if b"cancel.me@example.com" in i.body]
    cancelled = [i.seq for i in recordings.deliveries() if i.event == "order_cancelled"]
    replay(tenant, {s for s in theirs if s < min(set(theirs) & set(cancelled))})
    assert ledger("cancel.me@example.com") == [("earn", 1)]  # 1.59 USD placed and paid
    replay(tenant)
    assert ledger("cancel.me@example.com") == [("earn", 1), ("void", -1)]
    assert balance_of(profile("cancel.me@example.com").pk).total == 0


def test_replaying_everything_again_credits_nothing_twice(tenant, rates):
    replay(tenant)
    before = sorted(PointsEntry.objects.values_list("source_id", "kind", "points"))
    replay(tenant)  # the same bytes: the inbox drops them
    reprocess(tenant, failed_only=False)  # every delivery applied a second time
    drain()
    assert sorted(PointsEntry.objects.values_list("source_id", "kind", "points")) == before


def test_points_movements_are_on_the_customers_timeline_once(tenant, rates):
    """Support sees what each order earned and what a refund or a redemption took back, next
    to the orders themselves, however often the deliveries come."""
    from saleor_crm_plugin.models import TimelineEntry

    def points_timeline() -> list[tuple[str, int, str]]:
        rows = TimelineEntry.objects.filter(
            profile__email="anna.mueller@example.de", kind__startswith="crm.points."
        )
        return sorted(
            (k, d["points"], s) for k, d, s in rows.values_list("kind", "data", "subject_id")
        )

    replay(tenant)
    anna = profile("anna.mueller@example.de")
    earned = {e.source_id: e.points for e in anna.points.filter(kind="earn")}
    reversal = anna.points.get(kind="reverse")
    assert points_timeline() == sorted(
        [("crm.points.earned", pts, order) for order, pts in earned.items()]
        + [("crm.points.reversed", -5, reversal.source_id)]
    )
    PointsEntry.objects.filter(profile=anna).update(available_at=timezone.now())
    redeem(tenant, anna.pk, 50, redemption_id="r-timeline")
    replay(tenant)
    reprocess(tenant, failed_only=False)
    drain()
    redeem(tenant, anna.pk, 50, redemption_id="r-timeline")  # asked twice, spent once
    after = points_timeline()
    assert [k for k, _p, _s in after].count("crm.points.redeemed") == 1
    assert ("crm.points.redeemed", -50, "r-timeline") in after
    assert len(after) == len(earned) + 2


def test_the_database_refuses_a_second_credit_of_the_same_order(tenant, rates):
    replay(tenant)
    earn = PointsEntry.objects.filter(kind="earn").first()
    earn.pk = None
    with pytest.raises(Exception, match="crm_points_once"):
        earn.save()


def test_redeeming_spends_available_points_once_per_redemption(tenant, rates, monkeypatch):
    replay(tenant)
    anna = profile("anna.mueller@example.de")
    with pytest.raises(NotEnoughPoints):  # all still pending
        redeem(tenant, anna.pk, 50, redemption_id="r-1")
    PointsEntry.objects.filter(profile=anna).update(available_at=timezone.now())
    redeem(tenant, anna.pk, 50, redemption_id="r-1")
    redeem(tenant, anna.pk, 50, redemption_id="r-1")  # asked twice, spent once
    assert balance_of(anna.pk).available == 140
    with pytest.raises(NotEnoughPoints, match="141 points asked, 140 available"):
        redeem(tenant, anna.pk, 141, redemption_id="r-2")
    assert balance_of(anna.pk).available == 140


def test_parallel_redemptions_pass_exactly_as_far_as_the_balance_goes(tenant, rates):
    replay(tenant)
    anna = profile("anna.mueller@example.de")
    PointsEntry.objects.filter(profile=anna).update(available_at=timezone.now())  # 190
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def spend(i: int) -> None:
        try:
            start.wait()
            redeem(tenant, anna.pk, 30, redemption_id=f"parallel-{i}")
            outcomes.append("ok")
        except NotEnoughPoints:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] * 6 + ["refused"] * 6  # 6 x 30 = 180 of 190
    assert balance_of(anna.pk).available == 10


def test_a_refund_after_the_points_were_spent_never_goes_below_zero(tenant, rates):
    # refund.me's order first, as placed and paid (deliveries before the refund)
    placed = [i.seq for i in recordings.deliveries() if b"refund.me@example.com" in i.body]
    replay(tenant, set(placed[:-3]))
    buyer = profile("refund.me@example.com")
    assert balance_of(buyer.pk).total == 38
    PointsEntry.objects.filter(profile=buyer).update(available_at=timezone.now())
    redeem(tenant, buyer.pk, 30, redemption_id="spent")
    replay(tenant)  # now the full refund arrives
    assert balance_of(buyer.pk).total == 0
    reverse = PointsEntry.objects.get(profile=buyer, kind="reverse")
    assert (reverse.points, reverse.data["due"], reverse.data["shortfall"]) == (-8, 38, 30)


def test_the_customer_and_staff_see_points_through_graphql(tenant, rates):
    from saleor_crm_plugin.graphql.core.context import CRMContext
    from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
    from saleor_crm_plugin.graphql.schema import schema
    from tests.graphql.conftest import ANNA

    replay(tenant)
    me = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, "anna.mueller@example.de")
    result = schema.execute(
        "{ crmMe { points { available pending history(first: 5) { kind points orderId } } } }",
        context_value=CRMContext(principal=me),
    )
    assert result.errors is None, result.errors
    points = result.data["crmMe"]["points"]
    assert (points["available"], points["pending"]) == (0, 190)
    assert sorted(e["points"] for e in points["history"]) == [-5, 92, 103]
    assert all(e["orderId"].startswith("T3JkZXI6") for e in points["history"])
    staff = Principal(PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "", frozenset({"MANAGE_USERS"}))
    listing = schema.execute(
        "{ crmCustomers(first: 20) { edges { node { email points { pending } } } } }",
        context_value=CRMContext(principal=staff),
    )
    assert listing.errors is None, listing.errors
    pending = {
        e["node"]["email"]: e["node"]["points"]["pending"]
        for e in listing.data["crmCustomers"]["edges"]
    }
    assert pending["anna.mueller@example.de"] == 190
    assert pending["refund.me@example.com"] == 0


def test_staff_adjust_points_with_a_reason_once_and_never_below_zero(tenant, rates):
    from saleor_crm_plugin.graphql.core.context import CRMContext
    from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
    from saleor_crm_plugin.graphql.schema import schema
    from tests.graphql.conftest import ANNA

    replay(tenant)
    staff = Principal(
        PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "lena@shop.de", frozenset({"MANAGE_USERS"})
    )
    query = """
    mutation($points: Int!, $id: String!) {
      crmPointsAdjust(email: "Anna.Mueller@example.de", points: $points,
                      reason: "Parcel arrived late", adjustmentId: $id) {
        entry { kind points reason actor } pointsAvailable pointsPending
      }
    }"""

    def run(points: int, key: str):
        return schema.execute(
            query, variable_values={"points": points, "id": key}, context_value=CRMContext(staff)
        )

    done = run(25, "adj-1")
    assert done.errors is None, done.errors
    assert done.data["crmPointsAdjust"] == {
        "entry": {
            "kind": "adjust",
            "points": 25,
            "reason": "Parcel arrived late",
            "actor": "lena@shop.de",
        },
        "pointsAvailable": 25,
        "pointsPending": 190,
    }
    run(25, "adj-1")  # a retry of the same adjustment
    entry = PointsEntry.objects.get(kind="adjust")
    assert (entry.actor, entry.points) == ("lena@shop.de", 25)
    # On Anna's timeline once, as a staff action naming who made it.
    [staff_action] = entry.profile.timeline.filter(kind="crm.points.adjusted")
    assert staff_action.data == {
        "points": 25,
        "reason": "Parcel arrived late",
        "by": "lena@shop.de",
    }
    refused = run(-216, "adj-2")
    assert [str(e) for e in refused.errors] == ["216 points to deduct, 215 on the balance"]
    assert balance_of(profile("anna.mueller@example.de").pk).total == 215
    # Anna sees the adjustment and its reason in her history, not who on the staff made it
    anna = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, "anna.mueller@example.de")
    own = schema.execute(
        "{ crmMe { points { history { kind reason actor } } } }", context_value=CRMContext(anna)
    )
    assert own.errors is None, own.errors
    assert {"kind": "adjust", "reason": "Parcel arrived late", "actor": None} in own.data["crmMe"][
        "points"
    ]["history"]


def test_sign_up_and_first_order_bonuses_are_granted_once(tenant, rates, settings):
    settings.CRM_LOYALTY_SIGNUP_BONUS = 50
    settings.CRM_LOYALTY_FIRST_ORDER_BONUS = 20
    replay(tenant)
    replay(tenant)
    reprocess(tenant, failed_only=False)
    drain()
    bonuses = sorted(
        PointsEntry.objects.filter(kind="bonus").values_list("profile__email", "source", "points")
    )
    anna = [b for b in bonuses if b[0] == "anna.mueller@example.de"]
    assert anna == [
        ("anna.mueller@example.de", "first_order", 20),
        ("anna.mueller@example.de", "signup", 50),
    ]
    guests = {b[0] for b in bonuses if b[1] == "signup"}
    assert "refund.me@example.com" not in guests  # a guest has no account to sign up with
    # refunded in full: no first-order bonus, or one granted and voided when the refund came
    refunded = PointsEntry.objects.filter(profile__email="refund.me@example.com")
    assert sum(refunded.filter(source="first_order").values_list("points", flat=True)) == 0
    assert ("fahad@example.kw", "first_order", 20) in bonuses


def test_a_first_order_refunded_in_full_takes_its_bonus_back(tenant, rates, settings):
    settings.CRM_LOYALTY_FIRST_ORDER_BONUS = 20
    placed = [i.seq for i in recordings.deliveries() if b"refund.me@example.com" in i.body]
    replay(tenant, set(placed[:-3]))
    assert ledger("refund.me@example.com") == [("earn", 38), ("bonus", 20)]
    replay(tenant)  # the full refund
    assert sorted(ledger("refund.me@example.com")) == [
        ("bonus", 20),
        ("earn", 38),
        ("reverse", -38),
        ("void", -20),
    ]


def test_a_guests_points_and_reversals_follow_the_order_into_the_account(tenant, rates):
    """Earn (``<order>``) and reversal (``<order>@<refunded>``) entries both move to the account
    when Saleor later attaches a guest's order to an account, and no other order's do."""
    theirs = [i for i in recordings.deliveries() if b"refund.me@example.com" in i.body]
    refunded = min(i.seq for i in theirs if i.event == "order_refunded")
    replay(tenant, {i.seq for i in recordings.deliveries() if i.seq <= refunded})
    guest = profile("refund.me@example.com")
    earned = sorted(PointsEntry.objects.filter(profile=guest).values_list("kind", "source_id"))
    assert [k for k, _ in earned] == ["earn", "reverse"]
    assert "@" in dict(earned)["reverse"]
    others = sorted(PointsEntry.objects.exclude(profile=guest).values_list("id", "profile_id"))

    signup = json.loads(recordings.delivery(1).body)  # an account under another e-mail
    signup["user"].update(id="VXNlcjo5OTk=", email="new.account@example.com")
    accept(tenant, event="customer_created", body=json.dumps(signup).encode(), headers={})
    drain()
    for item in theirs:
        if item.seq > refunded and item.event.startswith("order_"):
            body = json.loads(item.body)
            body["order"]["user"] = {"id": "VXNlcjo5OTk=", "email": "refund.me@example.com"}
            accept(tenant, event=item.event, body=json.dumps(body).encode(), headers={})
    drain()

    account = Profile.objects.get(tenant=tenant, user_id="VXNlcjo5OTk=")
    moved = sorted(PointsEntry.objects.filter(profile=account).values_list("kind", "source_id"))
    assert moved == earned
    assert not PointsEntry.objects.filter(profile_id=guest.pk).exists()
    assert sorted(PointsEntry.objects.exclude(profile=account).values_list("id", "profile_id")) == (
        others
    )
    assert balance_of(account.pk).total == 0

"""crmOrderLoyalty: what the order page's loyalty widget shows for orders of the recorded store."""

from __future__ import annotations

import pytest

from tests.graphql.conftest import ANNA

pytestmark = pytest.mark.django_db

ANNAS_REFUNDED = "T3JkZXI6YjExNmRhNWUtYTllOC00NDA3LTk5OTQtZTZlNWJmYjdjMDhk"  # #21, 5.51 refunded
GUEST = "T3JkZXI6MjY1ZDAwMmUtMTQxMy00ZmQzLWE5NzEtNjdhM2EyYzkxZmFi"  # #25, fahad@ as a guest
QUERY = """
query($id: ID!) { crmOrderLoyalty(orderId: $id) {
  orderId number status earned bonus reversed voided held released net pendingUntil
  rulesVersion tier multiplier
  customer { userId email points { available pending } tier { name } }
} }"""


@pytest.fixture
def staff(issuer):
    return issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))


def test_an_order_shows_what_it_earned_and_what_its_refund_took_back(store, gql, staff):
    from saleor_crm_plugin.loyalty.ledger import balance_of
    from saleor_crm_plugin.loyalty.models import EntryKind, PointsEntry
    from saleor_crm_plugin.profiles.models import Profile

    earn = PointsEntry.objects.get(source="order", source_id=ANNAS_REFUNDED, kind=EntryKind.EARN)
    taken = PointsEntry.objects.get(source="order", source_id__startswith=ANNAS_REFUNDED + "@")
    anna = Profile.objects.get(user_id=ANNA)
    data = gql(QUERY, {"id": ANNAS_REFUNDED}, token=staff)["data"]["crmOrderLoyalty"]
    assert data["status"] == "CUSTOMER" and data["number"] == "21"
    assert data["earned"] == earn.points > 0
    assert data["reversed"] == taken.points < 0  # the refunded share, on the ledger
    assert data["net"] == earn.points + taken.points
    assert (data["voided"], data["held"], data["released"]) == (0, 0, 0)
    assert data["rulesVersion"] is None  # the installation's defaults were in force
    assert data["multiplier"] == "1"
    balance = balance_of(anna.pk)
    assert data["customer"]["userId"] == ANNA
    assert data["customer"]["points"] == {
        "available": balance.available,
        "pending": balance.pending,
    }


def test_an_order_earns_by_the_rules_version_in_force_and_a_dispute_holds(store, gql, staff):
    """A later order earns by the saved rules (version 1), and an open dispute's hold shows."""
    from django.utils import timezone

    from saleor_crm_plugin.loyalty import earning
    from saleor_crm_plugin.loyalty.models import EntryKind, PointsEntry
    from saleor_crm_plugin.profiles.models import OrderRecord

    program = earning.save_rules(store, {"points_per_unit": "2"}, by="staff@example.com")
    order = OrderRecord.objects.get(order_id=ANNAS_REFUNDED)
    PointsEntry.objects.filter(source="order", source_id=ANNAS_REFUNDED).delete()
    OrderRecord.objects.filter(pk=order.pk).update(created_at=program.created_at)
    from saleor_crm_plugin.loyalty.ledger import sync_orders

    sync_orders(store, [ANNAS_REFUNDED])
    earned = PointsEntry.objects.get(source_id=ANNAS_REFUNDED, kind=EntryKind.EARN)
    PointsEntry.objects.create(
        tenant=store,
        profile=earned.profile,
        kind=EntryKind.HOLD,
        points=-10,
        source="order",
        source_id=f"{ANNAS_REFUNDED}@dispute:dp_1",
        created_at=timezone.now(),
        available_at=earned.available_at,
        data={"order_id": ANNAS_REFUNDED},
    )
    data = gql(QUERY, {"id": ANNAS_REFUNDED}, token=staff)["data"]["crmOrderLoyalty"]
    assert data["rulesVersion"] == 1
    assert data["earned"] == earned.points
    assert data["held"] == -10
    assert data["net"] == earned.points + data["reversed"] - 10


def test_a_guest_order_and_an_unknown_order_say_so(store, gql, staff):
    guest = gql(QUERY, {"id": GUEST}, token=staff)["data"]["crmOrderLoyalty"]
    assert guest["status"] == "GUEST"
    assert guest["customer"]["userId"] is None and guest["customer"]["email"] == "fahad@example.kw"
    unknown = gql(QUERY, {"id": "T3JkZXI6bm90LXNlZW4="}, token=staff)["data"]["crmOrderLoyalty"]
    assert unknown["status"] == "UNKNOWN"
    assert (unknown["earned"], unknown["net"], unknown["customer"]) == (0, 0, None)


def test_an_order_id_with_like_wildcards_matches_nothing_else(store, gql, staff):
    """`_` and `%` in an id are literal: they never pick up another order's entries."""
    data = gql(QUERY, {"id": "T3JkZXI6_%"}, token=staff)["data"]["crmOrderLoyalty"]
    assert data["status"] == "UNKNOWN" and data["net"] == 0
    from saleor_crm_plugin.loyalty.queries import _like_prefix

    assert _like_prefix("a_b%c") == "a\\_b\\%c@%"


def test_without_manage_users_nothing_is_shown(store, gql, issuer):
    token = issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_ORDERS",))
    body = gql(QUERY, {"id": ANNAS_REFUNDED}, token=token)
    assert body["data"] is None and "MANAGE_USERS" in body["errors"][0]["message"]


def test_bonuses_the_order_brought_count_for_its_customer_only(store, gql, staff):
    """The first-order bonus is the customer's; the referral advocate's bonus for the same
    order is someone else's balance and stays out of this order's figures."""
    from django.utils import timezone

    from saleor_crm_plugin.loyalty.models import EntryKind, PointsEntry
    from saleor_crm_plugin.profiles.models import Profile

    anna = Profile.objects.get(user_id=ANNA)
    advocate = Profile.objects.exclude(pk=anna.pk).first()
    now = timezone.now()
    for profile, source_id, points in ((anna, "first:anna", 50), (advocate, "ref:adv", 70)):
        PointsEntry.objects.create(
            tenant=store,
            profile=profile,
            kind=EntryKind.BONUS,
            points=points,
            source="bonus",
            source_id=source_id,
            created_at=now,
            available_at=now,
            data={"order_id": ANNAS_REFUNDED},
        )
    before = gql(QUERY, {"id": ANNAS_REFUNDED}, token=staff)["data"]["crmOrderLoyalty"]
    assert before["bonus"] == 50
    PointsEntry.objects.create(
        tenant=store,
        profile=anna,
        kind=EntryKind.VOID,
        points=-50,
        source="bonus",
        source_id="first:anna",
        created_at=now,
        available_at=now,
        data={"order_id": ANNAS_REFUNDED},
    )
    after = gql(QUERY, {"id": ANNAS_REFUNDED}, token=staff)["data"]["crmOrderLoyalty"]
    assert after["bonus"] == 0 and after["net"] == before["net"] - 50

"""Refunds and cancellations of a batch, taken back together (loyalty/reversals.py).

Orders in EUR, the base currency: 1 point per EUR, so an order of 100.00 EUR earns 100 points.
Each batch goes through the apply path the inbox uses (``apply_events``, ``sync_orders``,
``sync_customers``), so what one batch holds is taken back in one go.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.loyalty.ledger import balance_of, redeem, sync_customers, sync_orders
from saleor_crm_plugin.models import PointsEntry, Profile

pytestmark = pytest.mark.django_db(transaction=True)

PLACED = datetime(2026, 11, 2, tzinfo=UTC)


def order(order_id: str, email: str, euros: int) -> Order:
    cents = euros * 100
    return Order(
        order_id=order_id, number=order_id, channel="channel-EUR", currency="EUR",
        status="UNFULFILLED", user_id=None, email=email, language="en", country="DE",
        created_at=PLACED, updated_at=PLACED, total_gross_minor=cents, total_net_minor=cents,
        charged_minor=cents, refunded_minor=0,
    )  # fmt: skip


def refunded(placed: Order, euros: int, step: int = 1) -> Order:
    return replace(
        placed, refunded_minor=euros * 100, updated_at=placed.updated_at + timedelta(minutes=step)
    )


def cancelled(placed: Order, step: int = 2) -> Order:
    return replace(
        placed, status="CANCELED", updated_at=placed.updated_at + timedelta(minutes=step)
    )


def apply(tenant, *batch: Order) -> None:
    """One inbox batch of order deliveries."""
    from saleor_crm_plugin.profiles.services import apply_events

    events = [(i, Event(Kind.ORDER_UPDATED, o.updated_at, order=o)) for i, o in enumerate(batch)]
    ids = [o.order_id for o in batch]
    with transaction.atomic():
        apply_events(tenant, events)
        sync_orders(tenant, ids)
        sync_customers(tenant, ids, [])


def spend(tenant, email: str, points: int) -> Profile:
    """The customer's points leave the return window, and they redeem some."""
    customer = Profile.objects.get(email=email)
    PointsEntry.objects.filter(profile=customer).update(available_at=timezone.now())
    redeem(tenant, customer.pk, points, redemption_id=f"{email}:{points}")
    return customer


def taken_back(email: str) -> list[tuple[str, str, int, dict]]:
    """(kind, source id, points, data) of the customer's reversals and voids, in entry order."""
    rows = PointsEntry.objects.filter(profile__email=email, kind__in=["reverse", "void"])
    return list(rows.order_by("id").values_list("kind", "source_id", "points", "data"))


def total(email: str) -> int:
    return balance_of(Profile.objects.get(email=email).pk).total


def test_refunds_of_two_customers_in_one_batch_each_take_their_share(tenant, rates):
    anna, ben = order("a1", "anna@example.de", 100), order("b1", "ben@example.de", 50)
    apply(tenant, anna, ben)
    apply(tenant, refunded(anna, 30), refunded(ben, 50))
    assert taken_back("anna@example.de") == [
        ("reverse", "a1@3000", -30, {"order_id": "a1", "due": 30, "shortfall": 0})
    ]
    assert taken_back("ben@example.de") == [
        ("reverse", "b1@5000", -50, {"order_id": "b1", "due": 50, "shortfall": 0})
    ]
    assert (total("anna@example.de"), total("ben@example.de")) == (70, 0)


def test_two_reversals_of_one_customer_clamp_one_after_the_other(tenant, rates):
    first, second = order("c1", "cleo@example.fr", 100), order("c2", "cleo@example.fr", 60)
    apply(tenant, first, second)
    spend(tenant, "cleo@example.fr", 90)  # 160 earned, 70 left
    apply(tenant, refunded(first, 50), cancelled(second))
    # c1 takes its 50 in full; c2's void finds 20 left and records the other 40 as shortfall
    assert taken_back("cleo@example.fr") == [
        ("reverse", "c1@5000", -50, {"order_id": "c1", "due": 50, "shortfall": 0}),
        ("void", "c2", -20, {"order_id": "c2", "due": 60, "shortfall": 40}),
    ]
    assert total("cleo@example.fr") == 0


def test_a_replayed_refund_writes_nothing_and_leaves_the_balance_to_the_others(tenant, rates):
    first, second = order("d1", "dora@example.it", 100), order("d2", "dora@example.it", 100)
    apply(tenant, first, second)
    spend(tenant, "dora@example.it", 180)
    apply(tenant, refunded(first, 100))  # 100 due, 20 left: 80 short
    apply(tenant, order("d3", "dora@example.it", 50))  # 50 more
    # d1's refund again (still 80 short, but already written), with a new refund of d2
    apply(tenant, refunded(first, 100), refunded(first, 100), refunded(second, 30))
    assert taken_back("dora@example.it") == [
        ("reverse", "d1@10000", -20, {"order_id": "d1", "due": 100, "shortfall": 80}),
        ("reverse", "d2@3000", -30, {"order_id": "d2", "due": 30, "shortfall": 0}),
    ]
    assert total("dora@example.it") == 20


def test_a_cancellation_after_a_partial_refund_voids_what_is_left(tenant, rates):
    placed = order("e1", "emil@example.se", 100)
    apply(tenant, placed)
    apply(tenant, refunded(placed, 30))
    apply(tenant, cancelled(refunded(placed, 30)))
    assert taken_back("emil@example.se") == [
        ("reverse", "e1@3000", -30, {"order_id": "e1", "due": 30, "shortfall": 0}),
        ("void", "e1", -70, {"order_id": "e1", "due": 70, "shortfall": 0}),
    ]
    assert total("emil@example.se") == 0


def test_a_cancelled_first_order_voids_its_bonus_before_its_points(tenant, rates, settings):
    settings.CRM_LOYALTY_FIRST_ORDER_BONUS = 20
    fay, gus = order("f1", "fay@example.nl", 100), order("g1", "gus@example.nl", 40)
    apply(tenant, fay, gus)
    spend(tenant, "fay@example.nl", 110)  # 100 + 20 bonus, 10 left
    apply(tenant, cancelled(fay), cancelled(gus))
    # Fay's bonus goes first and takes the 10 left; nothing is left for the order's void
    assert taken_back("fay@example.nl") == [
        ("void", "fay@example.nl", -10, {"order_id": "f1", "due": 20, "shortfall": 10}),
        ("void", "f1", 0, {"order_id": "f1", "due": 100, "shortfall": 100}),
    ]
    assert taken_back("gus@example.nl") == [
        ("void", "gus@example.nl", -20, {"order_id": "g1", "due": 20, "shortfall": 0}),
        ("void", "g1", -40, {"order_id": "g1", "due": 40, "shortfall": 0}),
    ]
    assert (total("fay@example.nl"), total("gus@example.nl")) == (0, 0)


def test_a_batch_of_reversals_costs_the_same_statements_as_one(tenant, rates):
    placed = [order(f"h{i}", f"h{i}@example.com", 10 + i) for i in range(5)]
    apply(tenant, *placed)

    def statements(*batch: Order) -> int:
        with CaptureQueriesContext(connection) as queries:
            apply(tenant, *batch)
        return len(queries)

    one = statements(cancelled(placed[0]))
    four = statements(refunded(placed[1], 11), *(refunded(p, 5) for p in placed[2:]))
    assert one == four
    assert PointsEntry.objects.filter(kind__in=["reverse", "void"]).count() == 5

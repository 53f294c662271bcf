"""Property tests: random order histories in JPY, USD and KWD against an independent oracle.

Each history is a few orders of one customer, each placed, refunded in steps and perhaps
cancelled; its deliveries are duplicated, shuffled and applied in random batches, as the inbox
may see them. Without redemptions the outcome is fixed, so it must equal the oracle exactly;
with redemptions in between, the ledger's invariants must hold at every step.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.loyalty.ledger import NotEnoughPoints, balance_of, redeem, sync_orders
from saleor_crm_plugin.models import OrderRecord, PointsEntry, Profile
from saleor_crm_plugin.profiles.services import apply_events

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "kenji@example.jp"
CURRENCIES = {"JPY": 0, "USD": 2, "KWD": 3}  # minor units
START = datetime(2026, 11, 2, tzinfo=UTC)
LATER = datetime(2030, 1, 1, tzinfo=UTC)


@st.composite
def order_history(draw: st.DrawFn, number: int) -> list[Order]:
    """The successive states of one order: placed, refunds growing, perhaps cancelled."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    total = draw(st.integers(min_value=1, max_value=5_000_000))
    created = START + timedelta(hours=number * 7)
    refunds = sorted(draw(st.lists(st.integers(min_value=1, max_value=total), max_size=3)))
    cancelled = draw(st.booleans()) and draw(st.booleans())

    def state(step: int, status: str, refunded: int) -> Order:
        return Order(
            order_id=f"order-{number}", number=str(number), channel=f"channel-{currency}",
            currency=currency, status=status, user_id=None, email=EMAIL, language="ja",
            country="JP", created_at=created, updated_at=created + timedelta(minutes=step),
            total_gross_minor=total, total_net_minor=total, charged_minor=total,
            refunded_minor=refunded,
        )  # fmt: skip

    states = [state(0, "UNFULFILLED", 0)]
    states += [state(i + 1, "UNFULFILLED", r) for i, r in enumerate(refunds)]
    if cancelled:
        states.append(state(len(states), "CANCELED", refunds[-1] if refunds else 0))
    return states


@st.composite
def store_history(draw: st.DrawFn) -> tuple[list[Order], list[list[Order]]]:
    """Every state of every order, duplicated, shuffled and cut into delivery batches."""
    orders = [draw(order_history(n)) for n in range(draw(st.integers(1, 4)))]
    states = [s for history in orders for s in history]
    deliveries = states + draw(st.lists(st.sampled_from(states), max_size=4))
    deliveries = draw(st.permutations(deliveries))
    cuts = sorted(draw(st.sets(st.integers(1, len(deliveries)), max_size=3)) | {len(deliveries)})
    batches = [deliveries[a:b] for a, b in zip([0, *cuts], cuts, strict=False) if b > a]
    return [history[-1] for history in orders], batches


def apply(tenant, batch: list[Order]) -> None:
    """What the inbox does with one batch of deliveries."""
    events = [(i, Event(Kind.ORDER_UPDATED, o.updated_at, order=o)) for i, o in enumerate(batch)]
    with transaction.atomic():
        apply_events(tenant, events)
        sync_orders(tenant, [o.order_id for o in batch])


def oracle(final: Order) -> int:
    """Points an order is worth in the end, from its own numbers and the rules alone."""
    record = OrderRecord.objects.get(order_id=final.order_id)  # its base amount (FX tested apart)
    earned = record.total_gross_base_minor // 100  # 1 point per whole EUR
    if final.status == "CANCELED":
        return 0
    return earned - earned * final.refunded_minor // final.total_gross_minor


def clean() -> None:
    PointsEntry.objects.all().delete()
    OrderRecord.objects.all().delete()
    Profile.objects.all().delete()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=store_history())
def test_any_arrival_order_gives_the_oracles_points(tenant, rates, history):
    clean()
    finals, batches = history
    for batch in batches:
        apply(tenant, batch)
    customer = Profile.objects.get(email=EMAIL)
    per_order = Counter[str]()
    for source_id, points in PointsEntry.objects.values_list("source_id", "points"):
        per_order[source_id.split("@")[0]] += points
    assert {o.order_id: per_order[o.order_id] for o in finals} == {
        o.order_id: oracle(o) for o in finals
    }
    assert balance_of(customer.pk, LATER).total == sum(oracle(o) for o in finals)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=store_history(), spend=st.lists(st.integers(1, 3000), max_size=4))
def test_redemptions_between_batches_keep_the_ledger_sound(tenant, rates, history, spend):
    clean()
    _finals, batches = history
    redeemed = 0
    for step, batch in enumerate(batches):
        apply(tenant, batch)
        customer = Profile.objects.get(email=EMAIL)
        PointsEntry.objects.filter(profile=customer).update(available_at=START)  # window over
        if step < len(spend):
            try:
                redeem(tenant, customer.pk, spend[step], redemption_id=f"r{step}")
                redeemed += spend[step]
            except NotEnoughPoints:
                pass
        entries = list(PointsEntry.objects.filter(profile=customer))
        balance = balance_of(customer.pk, LATER)
        assert balance.total == sum(e.points for e in entries) >= 0
        keys = Counter((e.source, e.source_id, e.kind) for e in entries)
        assert set(keys.values()) <= {1}
        earned = sum(e.points for e in entries if e.kind == "earn")
        assert redeemed == -sum(e.points for e in entries if e.kind == "redeem") <= earned
        taken_back = -sum(e.points for e in entries if e.kind in ("reverse", "void"))
        assert taken_back <= earned  # never more than what the orders earned
    assert Decimal(redeemed) >= 0

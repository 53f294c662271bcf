"""Generated order histories for the reliability suite, and the oracle that says what they mean.

The oracle is computed from the generated events alone (newest state of each order wins), never
from our code, so a double credit or a lost delivery shows up as a difference.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.demo.catalogue import CHANNELS, PRODUCTS

EUR = next(c for c in CHANNELS if c.currency == "EUR")
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
NOT_PURCHASES = ("DRAFT", "CANCELED", "EXPIRED")


@dataclass(frozen=True)
class Event:
    event: str
    body: bytes


@dataclass(frozen=True)
class Figures:
    """What a customer's profile and points ledger must say once everything is applied."""

    orders: int
    spent_gross_minor: int
    refunded_minor: int
    points: int


def generate(events: int, seed: int) -> tuple[list[Event], dict[str, Figures]]:
    """At least ``events`` distinct deliveries (each a later state of some order: created, paid,
    fulfilled, refunded or cancelled) for about one customer per eight events, all in EUR, the
    store's base currency, so that 1 point per whole euro is checkable by hand."""
    rng = random.Random(seed)
    people = [
        p.Person(pk, f"customer{pk}@reliability.example", "Kim", f"Nr{pk}", "DE", "DE", True)
        for pk in range(1, max(events // 8, 1) + 1)
    ]
    out: list[Event] = []
    final: dict[str, p.OrderState] = {}
    number = 0
    while len(out) < events:
        number += 1
        person = rng.choice(people)
        cart = p.Cart(f"cart-{seed}-{number}", EUR, person)
        for _ in range(rng.randint(1, 3)):
            cart.lines.append(
                (rng.choice(PRODUCTS), rng.randint(1, 2), Decimal(rng.randint(199, 9999)) / 100)
            )
        at = START + timedelta(minutes=number)
        state = p.OrderState(f"{seed}-{number}", number, cart, created=at)
        steps = [("order_created", "OrderCreated"), ("order_fully_paid", "OrderFullyPaid")]
        roll = rng.random()
        if roll < 0.1:
            steps.append(("order_cancelled", "OrderCancelled"))
        else:
            steps.append(("order_fulfilled", "OrderFulfilled"))
            if roll < 0.3:
                steps.append(("order_refunded", "OrderRefunded"))
        for i, (event, typename) in enumerate(steps):
            state.updated = at + timedelta(seconds=10 * i)
            if event == "order_cancelled":
                state.status = "CANCELED"
            elif event == "order_fulfilled":
                state.status = "FULFILLED"
            elif event == "order_refunded":
                state.refunded = (state.total * Decimal(rng.randint(10, 60)) / 100).quantize(
                    Decimal("0.01")
                )
            body = p.body(typename, state.updated, p.principal(person), order=p.order(state))
            out.append(Event(event, body))
        final[state.uuid] = p.OrderState(**vars(state))
    return out, oracle(final.values())


def oracle(orders) -> dict[str, Figures]:
    """Per e-mail: purchases, their gross and refunds in minor units, and net points: floor of
    whole euros per purchase, less the refunded share of what it earned (floor)."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for order in orders:
        if order.status in NOT_PURCHASES:
            continue
        total = int(order.total * 100)
        refunded = int(order.refunded * 100)
        earned = total // 100
        figures = acc[order.cart.person.email]
        figures[0] += 1
        figures[1] += total
        figures[2] += refunded
        figures[3] += earned - (min(refunded, total) * earned // total)
    return {email: Figures(*f) for email, f in acc.items()}

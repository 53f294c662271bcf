"""Generating a store's history as the deliveries Saleor would have sent, deterministically."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from . import payloads as p
from .catalogue import CHANNELS, LANGUAGES, NAMES, PRODUCTS, TLD, Channel, local_price


@dataclass(frozen=True)
class Delivery:
    event: str
    body: bytes
    issued: datetime


class _History:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.items: list[Delivery] = []
        self.next_order = 1000

    def emit(self, event: str, typename: str, at: datetime, who: object, **objects: object) -> None:
        self.items.append(Delivery(event, p.body(typename, at, who, **objects), at))  # type: ignore[arg-type]

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self, at: datetime, low: float = 1, high: float = 40) -> datetime:
        return at + timedelta(seconds=self.rng.uniform(low, high))


def _person(h: _History, pk: int, channel: Channel) -> p.Person:
    country = h.rng.choice(channel.countries)
    language = LANGUAGES[country]
    first = h.rng.choice(NAMES[language][0])
    last = h.rng.choice(NAMES[language][1])
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    email = f"{local}{pk}@example.{TLD.get(country, country.lower())}"
    return p.Person(pk, email, first, last, language, country, registered=h.rng.random() < 0.7)


def _register(h: _History, person: p.Person, at: datetime) -> datetime:
    person.registered, person.joined = True, at
    who = None
    h.emit("customer_created", "CustomerCreated", at, who, user=p.user(person))
    at = h.tick(at, 20, 600)
    person.has_address, person.updated = True, at
    h.emit("customer_updated", "CustomerUpdated", at, p.principal(person), user=p.user(person))
    return at


def _cart(h: _History, person: p.Person, channel: Channel, at: datetime) -> p.Cart:
    cart = p.Cart(h.uid(), channel, person, created=at)
    favourite = h.rng.choice(PRODUCTS).category
    for _ in range(h.rng.choice((1, 1, 2, 3))):
        pool = (
            [x for x in PRODUCTS if x.category == favourite] if h.rng.random() < 0.6 else PRODUCTS
        )
        product = h.rng.choice(pool)
        cart.lines.append((product, h.rng.choice((1, 1, 1, 2, 3)), local_price(product, channel)))
    return cart


def _purchase(h: _History, person: p.Person, channel: Channel, at: datetime) -> None:
    who = p.principal(person)
    cart = _cart(h, person, channel, at)
    h.emit("checkout_created", "CheckoutCreated", at, who, checkout=p.checkout(cart, at, False))
    for _ in range(h.rng.randint(1, 3)):
        at = h.tick(at)
        h.emit("checkout_updated", "CheckoutUpdated", at, who, checkout=p.checkout(cart, at, True))
    at = h.tick(at)
    h.emit(
        "checkout_fully_paid", "CheckoutFullyPaid", at, None, checkout=p.checkout(cart, at, True)
    )
    h.next_order += 1
    state = p.OrderState(h.uid(), h.next_order, cart, created=h.tick(at, 1, 5))
    at = state.created
    for event, typename in (
        ("order_created", "OrderCreated"),
        ("order_paid", "OrderPaid"),
        ("order_fully_paid", "OrderFullyPaid"),
        ("order_updated", "OrderUpdated"),
        ("order_confirmed", "OrderConfirmed"),
    ):
        at = h.tick(at, 0.01, 0.2)
        h.emit(event, typename, at, who, order=p.order(state))
    roll = h.rng.random()
    staff = {"__typename": "User", "id": p.gid("User", 1), "email": "staff@demo-saleor.localhost"}
    later = h.tick(at, 3600, 10 * 86400)
    if roll < 0.05:  # partial refund of the first line
        product, qty, price = cart.lines[0]
        state.refunded, state.updated = price, later
        h.emit("order_refunded", "OrderRefunded", later, staff, order=p.order(state))
        h.emit(
            "order_updated", "OrderUpdated", h.tick(later, 0.01, 0.1), staff, order=p.order(state)
        )
    elif roll < 0.07:  # full refund
        state.refunded, state.updated = state.total, later
        for event, typename in (
            ("order_refunded", "OrderRefunded"),
            ("order_updated", "OrderUpdated"),
            ("order_fully_refunded", "OrderFullyRefunded"),
        ):
            later = h.tick(later, 0.01, 0.1)
            h.emit(event, typename, later, staff, order=p.order(state))
    elif roll < 0.09:  # cancelled by staff
        state.status, state.updated = "CANCELED", later
        h.emit("order_cancelled", "OrderCancelled", later, staff, order=p.order(state))
        h.emit(
            "order_updated", "OrderUpdated", h.tick(later, 0.01, 0.1), staff, order=p.order(state)
        )
    elif roll < 0.30:  # fulfilled
        state.status, state.updated = "FULFILLED", later
        h.emit("order_updated", "OrderUpdated", later, staff, order=p.order(state))
        h.emit(
            "order_fulfilled",
            "OrderFulfilled",
            h.tick(later, 0.01, 0.1),
            staff,
            order=p.order(state),
        )


def _abandon(h: _History, person: p.Person, channel: Channel, at: datetime) -> None:
    who = p.principal(person)
    cart = _cart(h, person, channel, at)
    h.emit("checkout_created", "CheckoutCreated", at, who, checkout=p.checkout(cart, at, False))
    at = h.tick(at)
    h.emit("checkout_updated", "CheckoutUpdated", at, who, checkout=p.checkout(cart, at, True))


def generate_store(
    *, customers: int = 3000, start: datetime, end: datetime, seed: int = 7
) -> list[Delivery]:
    """A multi-channel, multi-currency history: registered customers and guests (some of whom
    register later with the same e-mail in other letter case), repeat buyers, refunds,
    cancellations, fulfilments, abandoned checkouts and a few deletions, in arrival order."""
    h = _History(seed)
    weights = [c.weight for c in CHANNELS]
    span = (end - start).total_seconds()
    people = []
    for pk in range(1000, 1000 + customers):
        channel = h.rng.choices(CHANNELS, weights)[0]
        person = _person(h, pk, channel)
        at = start + timedelta(seconds=h.rng.uniform(0, span * 0.9))
        if person.registered:
            at = _register(h, person, at)
        loyal = h.rng.random() < 0.25
        orders = h.rng.choice((0, 1, 1, 1, 2, 2, 3)) + (h.rng.randint(2, 6) if loyal else 0)
        for i in range(orders):
            at = h.tick(at, 3 * 86400, (30 if loyal else 120) * 86400)
            if at >= end:
                break
            if i == 1 and not person.registered and h.rng.random() < 0.3:
                person.email = person.email.capitalize()  # same person, other letter case
                at = _register(h, person, at)
            _purchase(h, person, channel, at)
        if h.rng.random() < 0.08 and at < end:
            _abandon(h, person, channel, h.tick(at, 86400, 20 * 86400))
        people.append(person)
    for person in h.rng.sample([x for x in people if x.registered], k=max(1, customers // 300)):
        staff = {
            "__typename": "User",
            "id": p.gid("User", 1),
            "email": "staff@demo-saleor.localhost",
        }
        h.emit("customer_deleted", "CustomerDeleted", end, staff, user=p.user(person))
    return sorted((d for d in h.items if d.issued <= end), key=lambda d: d.issued)


def rates_csv(start: datetime, end: datetime, seed: int = 7) -> str:
    """Weekly EUR-based rates drifting slowly, covering the whole period."""
    rng = random.Random(seed)
    levels = {c.currency: c.per_eur for c in CHANNELS if c.currency != "EUR"}
    lines = ["date,base,currency,rate"]
    day = start - timedelta(days=7)
    while day <= end:
        for currency, level in sorted(levels.items()):
            drift = Decimal(str(round(rng.uniform(-0.01, 0.01), 4)))
            levels[currency] = (level * (1 + drift)).quantize(Decimal("0.000001"))
            lines.append(f"{day.date().isoformat()},EUR,{currency},{levels[currency]}")
        day += timedelta(days=7)
    return "\n".join(lines) + "\n"

"""Timeline entries, one function per kind of thing that happened.

Entries are derived from the state an event shows (an order with a refund shows a refund), and
each has a dedupe key, so replays, duplicates and any arrival order give the same timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..inbox.types import Checkout, Customer, Event, Kind, Order
from ..money.currencies import from_minor
from .sql import PROFILE_FOR, bound_cursor, rows_json

# Statuses in which an order counts as a purchase (drafts, cancelled and expired do not).
NOT_PURCHASES = ("DRAFT", "CANCELED", "EXPIRED")
# Purchases Saleor marks (partly) returned, for the return rate.
RETURNED = ("RETURNED", "PARTIALLY_RETURNED")


@dataclass(frozen=True)
class Entry:
    kind: str
    occurred_at: datetime
    subject_id: str
    dedupe_key: str
    user_id: str | None
    email: str
    data: dict[str, str]


def _money(amount_minor: int, currency: str) -> dict[str, str]:
    return {"amount": str(from_minor(amount_minor, currency)), "currency": currency}


def order_entries(order: Order, issued_at: datetime, kind: Kind) -> list[Entry]:
    base = {"number": order.number, "channel": order.channel}

    def entry(name: str, at: datetime, suffix: str = "", **data: str) -> Entry:
        return Entry(
            kind=f"crm.order.{name}",
            occurred_at=at,
            subject_id=order.order_id,
            dedupe_key=f"order.{name}:{order.order_id}{suffix}",
            user_id=order.user_id,
            email=order.email,
            data={**base, **data},
        )

    total = _money(order.total_gross_minor, order.currency)
    entries = [entry("placed", order.created_at, total=total["amount"], currency=order.currency)]
    if kind is Kind.ORDER_PAID or (order.charged_minor >= order.total_gross_minor > 0):
        entries.append(entry("paid", issued_at, total=total["amount"], currency=order.currency))
    if order.refunded_minor > 0:
        refunded = _money(order.refunded_minor, order.currency)
        entries.append(
            entry(
                "refunded",
                issued_at,
                f":{order.refunded_minor}",
                refunded=refunded["amount"],
                currency=order.currency,
            )
        )
    if order.status == "CANCELED":
        entries.append(entry("cancelled", issued_at))
    if order.status == "FULFILLED":
        entries.append(entry("fulfilled", issued_at))
    return entries


def checkout_entries(checkout: Checkout, issued_at: datetime, kind: Kind) -> list[Entry]:
    def entry(name: str, at: datetime) -> Entry:
        return Entry(
            kind=f"crm.checkout.{name}",
            occurred_at=at,
            subject_id=checkout.checkout_id,
            dedupe_key=f"checkout.{name}:{checkout.checkout_id}",
            user_id=checkout.user_id,
            email=checkout.email,
            data={
                **_money(checkout.total_gross_minor, checkout.currency),
                "channel": checkout.channel,
                "lines": str(sum(line.quantity for line in checkout.lines)),
            },
        )

    entries = [entry("started", checkout.created_at)]
    if kind is Kind.CHECKOUT_PAID:
        entries.append(entry("paid", issued_at))
    return entries


def customer_entries(customer: Customer, issued_at: datetime, saleor_event: str) -> list[Entry]:
    def entry(name: str, at: datetime, suffix: str = "") -> Entry:
        return Entry(
            kind=f"crm.customer.{name}",
            occurred_at=at,
            subject_id=customer.user_id,
            dedupe_key=f"customer.{name}:{customer.user_id}{suffix}",
            user_id=customer.user_id,
            email=customer.email,
            data={},
        )

    entries = [entry("registered", customer.joined_at or issued_at)]
    if saleor_event in ("customer_updated", "customer_metadata_updated"):
        at = customer.updated_at or issued_at
        entries.append(entry("updated", at, f":{at.isoformat()}"))
    return entries


def entries_for(event: Event) -> list[Entry]:
    if event.order is not None:
        return order_entries(event.order, event.issued_at, event.kind)
    if event.checkout is not None:
        return checkout_entries(event.checkout, event.issued_at, event.kind)
    if event.customer is not None and event.kind is Kind.CUSTOMER_CHANGED:
        return customer_entries(
            event.customer, event.issued_at, event.extra.get("saleor_event", "")
        )
    return []


def record_entries(tenant_id: int, entries: Sequence[Entry]) -> None:
    """Insert entries for customers we have a profile for.

    An entry seen again keeps the earliest time any delivery showed it: that is when it
    happened, whichever delivery arrived first.
    """
    if not entries:
        return
    earliest: dict[str, Entry] = {}
    for e in entries:
        if e.dedupe_key not in earliest or e.occurred_at < earliest[e.dedupe_key].occurred_at:
            earliest[e.dedupe_key] = e
    unique = list(earliest.values())
    with bound_cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id, data,
                                      dedupe_key)
            SELECT * FROM (
              SELECT %(tenant)s, {PROFILE_FOR} AS profile_id, v.kind, v.occurred_at,
                     v.subject_id, v.data, v.dedupe_key
              FROM jsonb_to_recordset(%(rows)s::jsonb)
                AS v(kind text, occurred_at timestamptz, subject_id text, data jsonb,
                     dedupe_key text, user_id text, email text)
            ) x WHERE x.profile_id IS NOT NULL
            ON CONFLICT (tenant_id, dedupe_key) DO UPDATE SET occurred_at = EXCLUDED.occurred_at
            WHERE EXCLUDED.occurred_at < crm_timeline.occurred_at
            """,
            {"tenant": tenant_id, "rows": rows_json(unique)},
        )

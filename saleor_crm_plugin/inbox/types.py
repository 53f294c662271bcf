"""Canonical events: what both doors produce and every capability consumes.

They carry plain data in our own units (minor units, lower-case language tags, ISO country
codes), so capabilities never see a Saleor payload shape or a Saleor model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    ORDER_PLACED = "order.placed"
    ORDER_CONFIRMED = "order.confirmed"
    ORDER_PAID = "order.paid"
    ORDER_UPDATED = "order.updated"
    ORDER_REFUNDED = "order.refunded"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_FULFILLED = "order.fulfilled"
    CHECKOUT_CHANGED = "checkout.changed"
    CHECKOUT_PAID = "checkout.paid"
    CUSTOMER_CHANGED = "customer.changed"
    CUSTOMER_DELETED = "customer.deleted"


@dataclass(frozen=True)
class Line:
    product_id: str
    product_slug: str
    product_name: str
    variant_id: str
    sku: str
    category_slug: str
    category_name: str
    quantity: int
    total_gross_minor: int


@dataclass(frozen=True)
class Order:
    order_id: str
    number: str
    channel: str
    currency: str
    status: str
    user_id: str | None
    email: str
    language: str
    country: str
    created_at: datetime
    updated_at: datetime
    total_gross_minor: int
    total_net_minor: int
    charged_minor: int
    refunded_minor: int
    payment_methods: tuple[str, ...] = ()
    lines: tuple[Line, ...] = ()
    checkout_id: str | None = None
    # The voucher code entered on the order: how a reward the CRM issued finds the order it
    # was spent on. None in payloads from before the CRM asked for it.
    voucher_code: str | None = None
    # Keyed hashes (profiles/fingerprints.py) for referral abuse checks, never the clear data.
    address_key: str = ""
    payment_keys: tuple[str, ...] = ()
    # PSP references of the order's payments (Stripe: the PaymentIntent id).
    psp_references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checkout:
    checkout_id: str
    token: str
    channel: str
    currency: str
    user_id: str | None
    email: str
    language: str
    country: str
    created_at: datetime
    updated_at: datetime
    total_gross_minor: int
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Customer:
    user_id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    language: str = ""
    country: str = ""
    is_active: bool = True
    joined_at: datetime | None = None
    phone: str = ""  # E.164, from the default billing (else shipping) address
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Event:
    """One canonical event; exactly one of ``order``/``checkout``/``customer`` is set."""

    kind: Kind
    issued_at: datetime
    order: Order | None = None
    checkout: Checkout | None = None
    customer: Customer | None = None
    actor: str = ""
    extra: dict[str, str] = field(default_factory=dict)

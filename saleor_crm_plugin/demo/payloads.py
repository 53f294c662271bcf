"""Webhook bodies in the shape of Saleor 3.24's subscription payloads (see the recordings)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .catalogue import CITIES, Channel, Product


def gid(kind: str, pk: object) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def amount(value: Decimal, currency: str) -> dict[str, Any]:
    # Saleor writes amounts as JSON floats; a float's shortest repr keeps the decimal text.
    return {"amount": float(value), "currency": currency}


def taxed(value: Decimal, currency: str) -> dict[str, Any]:
    return {"gross": amount(value, currency), "net": amount(value, currency)}


@dataclass
class Person:
    pk: int
    email: str
    first_name: str
    last_name: str
    language: str
    country: str
    registered: bool
    joined: datetime | None = None
    updated: datetime | None = None
    has_address: bool = False

    @property
    def user_ref(self) -> dict[str, str] | None:
        return {"id": gid("User", self.pk), "email": self.email} if self.registered else None


@dataclass
class Cart:
    token: str
    channel: Channel
    person: Person
    lines: list[tuple[Product, int, Decimal]] = field(default_factory=list)
    created: datetime | None = None

    def subtotal(self) -> Decimal:
        return sum((price * qty for _, qty, price in self.lines), Decimal(0))


def principal(person: Person) -> dict[str, Any] | None:
    if not person.registered:
        return None
    return {"__typename": "User", "id": gid("User", person.pk), "email": person.email}


def address(person: Person) -> dict[str, Any]:
    return {
        "firstName": person.first_name,
        "lastName": person.last_name,
        "companyName": "",
        "city": CITIES[person.country],
        "postalCode": "10001",
        "countryArea": "",
        "country": {"code": person.country},
    }


def user(person: Person) -> dict[str, Any]:
    billing = address(person) | {"phone": ""} if person.has_address else None
    return {
        "id": gid("User", person.pk),
        "email": person.email,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "isActive": True,
        "isConfirmed": True,
        "dateJoined": ts(person.joined) if person.joined else None,
        "updatedAt": ts(person.updated or person.joined) if person.joined else None,
        "lastLogin": None,
        "languageCode": person.language,
        "defaultBillingAddress": billing,
        "defaultShippingAddress": None,
        "metadata": [],
        "note": None,
        "orders": {"totalCount": 0, "edges": []},
    }


def _variant(product: Product, with_type: bool) -> dict[str, Any]:
    prod: dict[str, Any] = {
        "id": gid("Product", product.pk),
        "name": product.name,
        "slug": product.slug,
        "category": {
            "id": gid("Category", product.category_pk),
            "name": product.category.title(),
            "slug": product.category,
        },
    }
    if with_type:
        prod["productType"] = {
            "id": gid("ProductType", product.category_pk),
            "name": product.category,
        }
    return {
        "id": gid("ProductVariant", product.variant_pk),
        "sku": str(product.variant_pk * 7919),
        "name": "M",
        "product": prod,
    }


def checkout(cart: Cart, updated: datetime, with_address: bool) -> dict[str, Any]:
    cur = cart.channel.currency
    total = cart.subtotal() + (cart.channel.shipping if with_address else 0)
    person = cart.person
    return {
        "id": gid("Checkout", cart.token),
        "token": cart.token,
        "created": ts(cart.created or updated),
        "updatedAt": ts(updated),
        "lastChange": ts(updated),
        "email": person.email,
        "user": person.user_ref,
        "channel": {
            "id": gid("Channel", cart.channel.pk),
            "slug": cart.channel.slug,
            "currencyCode": cur,
        },
        "languageCode": person.language,
        "billingAddress": address(person) if with_address else None,
        "shippingAddress": address(person) if with_address else None,
        "totalPrice": taxed(total, cur),
        "subtotalPrice": taxed(cart.subtotal(), cur),
        "lines": [
            {
                "id": gid("CheckoutLine", f"{cart.token}-{i}"),
                "quantity": qty,
                "variant": _variant(p, False),
                "totalPrice": taxed(price * qty, cur),
                "unitPrice": taxed(price, cur),
            }
            for i, (p, qty, price) in enumerate(cart.lines)
        ],
        "discount": amount(Decimal(0), cur),
        "discountName": None,
        "voucherCode": None,
        "chargeStatus": "NONE",
        "authorizeStatus": "NONE",
        "totalBalance": amount(-total, cur),
        "deliveryMethod": None,
        "metadata": [],
        "privateMetadata": [],
    }


@dataclass
class OrderState:
    uuid: str
    number: int
    cart: Cart
    created: datetime
    status: str = "UNFULFILLED"
    refunded: Decimal = Decimal(0)
    updated: datetime | None = None

    @property
    def total(self) -> Decimal:
        return self.cart.subtotal() + self.cart.channel.shipping


def order(state: OrderState) -> dict[str, Any]:
    cart, cur = state.cart, state.cart.channel.currency
    charged = state.total - state.refunded if state.status != "CANCELED" else state.total
    person = cart.person
    return {
        "id": gid("Order", state.uuid),
        "number": str(state.number),
        "created": ts(state.created),
        "updatedAt": ts(state.updated or state.created),
        "status": state.status,
        "chargeStatus": "FULL",
        "authorizeStatus": "FULL",
        "origin": "CHECKOUT",
        "isPaid": True,
        "paymentStatus": "FULLY_CHARGED",
        "channel": {
            "id": gid("Channel", cart.channel.pk),
            "slug": cart.channel.slug,
            "currencyCode": cur,
        },
        "user": person.user_ref,
        "userEmail": person.email,
        "languageCodeEnum": person.language,
        "billingAddress": address(person),
        "shippingAddress": {k: address(person)[k] for k in ("city", "postalCode", "country")},
        "total": taxed(state.total, cur),
        "subtotal": taxed(cart.subtotal(), cur),
        "shippingPrice": taxed(cart.channel.shipping, cur),
        "undiscountedTotal": taxed(state.total, cur),
        "totalCharged": amount(charged, cur),
        "totalRefunded": amount(state.refunded, cur),
        "totalAuthorized": amount(Decimal(0), cur),
        "totalBalance": amount(Decimal(0), cur),
        "totalCanceled": amount(Decimal(0), cur),
        "discounts": [],
        "voucherCode": None,
        "voucher": None,
        "shippingMethodName": "DHL",
        "lines": [
            {
                "id": gid("OrderLine", f"{state.uuid}-{i}"),
                "productName": p.name,
                "variantName": "M",
                "productSku": str(p.variant_pk * 7919),
                "productVariantId": gid("ProductVariant", p.variant_pk),
                "quantity": qty,
                "quantityFulfilled": qty if state.status == "FULFILLED" else 0,
                "unitPrice": taxed(price, cur),
                "totalPrice": taxed(price * qty, cur),
                "variant": _variant(p, True),
            }
            for i, (p, qty, price) in enumerate(cart.lines)
        ],
        "transactions": [
            {
                "id": gid("TransactionItem", state.uuid),
                "name": "Demo Pay",
                "pspReference": f"psp-{state.number}",
                "chargedAmount": amount(charged, cur),
                "refundedAmount": amount(state.refunded, cur),
            }
        ],
        "payments": [],
        "metadata": [],
        "privateMetadata": [],
        "customerNote": "",
        "checkoutId": gid("Checkout", cart.token),
    }


def body(typename: str, issued: datetime, who: dict[str, Any] | None, **objects: Any) -> bytes:
    payload = {
        "__typename": typename,
        "issuedAt": ts(issued),
        "version": "3.24.0-a.0",
        "issuingPrincipal": who,
        **objects,
    }
    return json.dumps(payload, ensure_ascii=True).encode()

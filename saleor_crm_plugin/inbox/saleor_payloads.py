"""Saleor's subscription payloads (``webhooks/queries/``) turned into canonical events.

Amounts stay exact though Saleor writes them as JSON floats (``6.205`` KWD): orjson reads them
as doubles, and ``to_minor`` takes a double's shortest decimal text, which gives back the digits
written for every amount it accepts (see ``_loads`` for the bodies read with ``Decimal``).
Public metadata is ignored: customers can write it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from ..money.currencies import to_minor, validate_currency
from ..money.errors import MoneyError
from ..profiles.fingerprints import address_key, payment_keys
from ..profiles.phones import e164
from .errors import PayloadError
from .types import Checkout, Customer, Event, Kind, Line, Order

ORDER_EVENTS = {
    "order_created": Kind.ORDER_PLACED,
    "order_confirmed": Kind.ORDER_CONFIRMED,
    "order_paid": Kind.ORDER_PAID,
    "order_fully_paid": Kind.ORDER_PAID,
    "order_updated": Kind.ORDER_UPDATED,
    "order_metadata_updated": Kind.ORDER_UPDATED,
    "order_refunded": Kind.ORDER_REFUNDED,
    "order_fully_refunded": Kind.ORDER_REFUNDED,
    "order_cancelled": Kind.ORDER_CANCELLED,
    "order_fulfilled": Kind.ORDER_FULFILLED,
}
CHECKOUT_EVENTS = {
    "checkout_created": Kind.CHECKOUT_CHANGED,
    "checkout_updated": Kind.CHECKOUT_CHANGED,
    "checkout_fully_paid": Kind.CHECKOUT_PAID,
}
CUSTOMER_EVENTS = {
    "customer_created": Kind.CUSTOMER_CHANGED,
    "customer_updated": Kind.CUSTOMER_CHANGED,
    "customer_metadata_updated": Kind.CUSTOMER_CHANGED,
    "account_confirmed": Kind.CUSTOMER_CHANGED,
    "customer_deleted": Kind.CUSTOMER_DELETED,
    "account_deleted": Kind.CUSTOMER_DELETED,
}
# Signed and stored, but nothing in them changes a profile (a deletion *request* is not one).
IGNORED_EVENTS = frozenset({"account_delete_requested"})


def normalize_email(value: object) -> str:
    """E-mail addresses match case-insensitively (``Anna@X`` and ``anna@x`` are one person)."""
    return value.strip().lower() if isinstance(value, str) else ""


def language_tag(value: object) -> str:
    """Saleor's ``PT_BR`` / ``DE`` enum values as BCP 47 tags (``pt-br``, ``de``)."""
    return value.strip().lower().replace("_", "-") if isinstance(value, str) else ""


def _moment(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadError(f"{name} is missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PayloadError(f"{name} {value!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise PayloadError(f"{name} {value!r} has no time zone")
    return moment


def _obj(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError(f"{name} is missing", code="missing_object")
    return data


def _id(data: dict[str, Any], name: str) -> str:
    value = data.get("id")
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{name} has no id", code="bad_payload")
    return value


def _money(node: Any, currency: str, name: str) -> int:
    """Minor units of a ``Money`` node, checking it is in the object's currency."""
    if not isinstance(node, dict) or "amount" not in node:
        return 0
    if node.get("currency") not in (None, currency):
        raise PayloadError(
            f"{name} is in {node.get('currency')!r}, the object is in {currency}",
            code="currency_mismatch",
        )
    amount = node["amount"]
    if type(amount) is float:  # orjson's (bool is an int, and refused by to_minor)
        minor = _float_minor(amount, currency)
    elif isinstance(amount, Decimal | int):
        minor = to_minor(amount, currency)
    else:
        raise PayloadError(f"{name} amount {amount!r} is not a number", code="invalid_amount")
    if minor < 0:
        raise PayloadError(f"{name} is negative ({amount} {currency})", code="invalid_amount")
    return minor


@lru_cache(maxsize=4096)
def _float_minor(amount: float, currency: str) -> int:
    """``to_minor`` of a double, remembered: a store's prices repeat from order to order (gross
    and net, lines and totals), and converting was the costliest step of parsing. Only what
    converts is remembered; equal doubles (0.0 and -0.0 alike) have the same minor units."""
    return to_minor(amount, currency)


def _taxed(node: Any, currency: str, name: str) -> tuple[int, int]:
    node = node if isinstance(node, dict) else {}
    return _money(node.get("gross"), currency, name + ".gross"), _money(
        node.get("net"), currency, name + ".net"
    )


def _country(*addresses: Any) -> str:
    for address in addresses:
        if isinstance(address, dict):
            code = (address.get("country") or {}).get("code")
            if isinstance(code, str) and len(code) == 2:
                return code.upper()
    return ""


def _phone(*addresses: Any) -> str:
    for address in addresses:
        if isinstance(address, dict) and (phone := e164(address.get("phone"))):
            return phone
    return ""


def _lines(items: Any, currency: str) -> tuple[Line, ...]:
    lines = []
    for item in items or []:
        variant = item.get("variant") or {}
        product = variant.get("product") or {}
        category = product.get("category") or {}
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or quantity < 0:
            raise PayloadError(f"line quantity {quantity!r} is not a count", code="invalid_amount")
        lines.append(
            Line(
                product_id=str(product.get("id") or ""),
                product_slug=str(product.get("slug") or ""),
                product_name=str(product.get("name") or item.get("productName") or ""),
                variant_id=str(variant.get("id") or item.get("productVariantId") or ""),
                sku=str(variant.get("sku") or item.get("productSku") or ""),
                category_slug=str(category.get("slug") or ""),
                category_name=str(category.get("name") or ""),
                quantity=quantity,
                total_gross_minor=_taxed(item.get("totalPrice"), currency, "line.totalPrice")[0],
            )
        )
    return tuple(lines)


def _channel_currency(data: dict[str, Any]) -> tuple[str, str]:
    channel = _obj(data.get("channel"), "channel")
    currency = channel.get("currencyCode") or (data.get("total") or {}).get("gross", {}).get(
        "currency"
    )
    return str(channel.get("slug") or ""), validate_currency(currency)


def parse_order(data: Any) -> Order:
    data = _obj(data, "order")
    channel, currency = _channel_currency(data)
    gross, net = _taxed(data.get("total"), currency, "total")
    user = data.get("user") or {}
    methods = {str(t.get("name")) for t in data.get("transactions") or [] if t.get("name")}
    methods |= {str(p.get("gateway")) for p in data.get("payments") or [] if p.get("gateway")}
    email = normalize_email(data.get("userEmail") or user.get("email"))
    if not email and not user.get("id"):
        raise PayloadError("order has neither a customer nor an e-mail", code="missing_customer")
    return Order(
        order_id=_id(data, "order"),
        number=str(data.get("number") or ""),
        channel=channel,
        currency=currency,
        status=str(data.get("status") or ""),
        user_id=str(user["id"]) if user.get("id") else None,
        email=email,
        language=language_tag(data.get("languageCodeEnum")),
        country=_country(data.get("billingAddress"), data.get("shippingAddress")),
        created_at=_moment(data.get("created"), "order.created"),
        updated_at=_moment(data.get("updatedAt") or data.get("created"), "order.updatedAt"),
        total_gross_minor=gross,
        total_net_minor=net,
        charged_minor=_money(data.get("totalCharged"), currency, "totalCharged"),
        refunded_minor=_money(data.get("totalRefunded"), currency, "totalRefunded"),
        payment_methods=tuple(sorted(methods)),
        lines=_lines(data.get("lines"), currency),
        checkout_id=str(data["checkoutId"]) if data.get("checkoutId") else None,
        voucher_code=_voucher_code(data.get("voucherCode")),
        address_key=address_key(data.get("shippingAddress")),
        payment_keys=payment_keys(data.get("transactions"), data.get("payments")),
        psp_references=_psp_references(data),
    )


def _voucher_code(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError("order.voucherCode must be a string", code="invalid_voucher_code")
    return value.strip()[:255] or None


def _psp_references(data: dict[str, Any]) -> tuple[str, ...]:
    """Transactions' (Saleor's Stripe app) and legacy payments' (its Stripe plugin) references."""
    refs = {
        str(item.get("pspReference"))
        for key in ("transactions", "payments")
        for item in data.get(key) or []
        if isinstance(item, dict) and item.get("pspReference")
    }
    return tuple(sorted(refs))


def parse_checkout(data: Any) -> Checkout:
    data = _obj(data, "checkout")
    channel, currency = _channel_currency(data)
    user = data.get("user") or {}
    updated = data.get("lastChange") or data.get("updatedAt") or data.get("created")
    return Checkout(
        checkout_id=_id(data, "checkout"),
        token=str(data.get("token") or ""),
        channel=channel,
        currency=currency,
        user_id=str(user["id"]) if user.get("id") else None,
        email=normalize_email(data.get("email") or user.get("email")),
        language=language_tag(data.get("languageCode")),
        country=_country(data.get("shippingAddress"), data.get("billingAddress")),
        created_at=_moment(data.get("created"), "checkout.created"),
        updated_at=_moment(updated, "checkout.lastChange"),
        total_gross_minor=_taxed(data.get("totalPrice"), currency, "totalPrice")[0],
        lines=_lines(data.get("lines"), currency),
    )


def parse_customer(data: Any) -> Customer:
    data = _obj(data, "user")
    if not data.get("id"):
        raise PayloadError("user has no id", code="missing_customer")
    joined = data.get("dateJoined")
    updated = data.get("updatedAt")
    return Customer(
        user_id=str(data["id"]),
        email=normalize_email(data.get("email")),
        first_name=str(data.get("firstName") or "")[:256],
        last_name=str(data.get("lastName") or "")[:256],
        language=language_tag(data.get("languageCode")),
        country=_country(data.get("defaultBillingAddress"), data.get("defaultShippingAddress")),
        phone=_phone(data.get("defaultBillingAddress"), data.get("defaultShippingAddress")),
        is_active=bool(data.get("isActive", True)),
        joined_at=_moment(joined, "user.dateJoined") if joined else None,
        updated_at=_moment(updated, "user.updatedAt") if updated else None,
    )


def _deleted_customer(event: str, payload: dict[str, Any]) -> Customer:
    """Who was deleted. Without a ``user`` we may still know: a customer deleting their own
    account is the issuing principal. A staff deletion without ``user`` cannot be attributed."""
    if isinstance(payload.get("user"), dict):
        return parse_customer(payload["user"])
    principal = payload.get("issuingPrincipal") or {}
    if event == "account_deleted" and principal.get("__typename") == "User" and principal.get("id"):
        return Customer(user_id=str(principal["id"]), email=normalize_email(principal.get("email")))
    detail = "; ".join(
        str(e.get("message")) for e in payload.get("errors") or [] if isinstance(e, dict)
    )
    raise PayloadError(
        "deletion payload names no user"
        + (
            f" (Saleor reported: {detail}; select no privateMetadata in this subscription)"
            if detail
            else ""
        ),
        code="missing_customer",
    )


def _builders() -> dict[str, Callable[[str, dict[str, Any]], Event]]:
    def order(event: str, p: dict[str, Any]) -> Event:
        return Event(ORDER_EVENTS[event], _issued(p), order=parse_order(p.get("order")))

    def checkout(event: str, p: dict[str, Any]) -> Event:
        return Event(CHECKOUT_EVENTS[event], _issued(p), checkout=parse_checkout(p.get("checkout")))

    def customer(event: str, p: dict[str, Any]) -> Event:
        kind = CUSTOMER_EVENTS[event]
        found = (
            _deleted_customer(event, p)
            if kind is Kind.CUSTOMER_DELETED
            else parse_customer(p.get("user"))
        )
        return Event(kind, _issued(p), customer=found)

    table: dict[str, Callable[[str, dict[str, Any]], Event]] = {}
    table.update(dict.fromkeys(ORDER_EVENTS, order))
    table.update(dict.fromkeys(CHECKOUT_EVENTS, checkout))
    table.update(dict.fromkeys(CUSTOMER_EVENTS, customer))
    return table


_BUILDERS = _builders()


def _issued(payload: dict[str, Any]) -> datetime:
    return _moment(payload.get("issuedAt"), "issuedAt")


def _without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL characters; they carry no meaning in names."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


# Digits and points become "9", everything else a space: a run of 16 nines is a number
# written with 16 or more digits (or a long run of digits inside a string, which costs only a
# slower parse). One C pass over the body, a tenth of what a regular expression took.
_NUMBER_CHARS = bytes(0x39 if chr(i) in "0123456789." else 0x20 for i in range(256))
_LONG_NUMBER = b"9" * 16


def _loads(body: bytes) -> Any:
    """The body's JSON, with orjson (four times faster than ``json``; parsing was a third of
    applying a batch) unless the body holds a number written with 16 or more digits.

    A double keeps 15 significant digits: any amount ``to_minor`` accepts has at most 15, so
    orjson's doubles give back exactly what was written. A longer number may not survive
    (``1.0000000000000001`` EUR would read as 1.00 and be accepted, where its exact value is
    refused for having more decimals than the currency), so such a body, and anything orjson
    refuses that ``json`` reads (``NaN``, UTF-16, a lone surrogate), is read as before, with
    every fraction a ``Decimal``."""
    if _LONG_NUMBER not in body.translate(_NUMBER_CHARS):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body, parse_float=Decimal)


def is_known_event(event: str) -> bool:
    return event in _BUILDERS or event in IGNORED_EVENTS


def parse_delivery(event: str, body: bytes) -> list[Event]:
    """Canonical events in one delivery; ``[]`` for events we store but do not use.

    Raises ``PayloadError`` (with a stable code) for anything that cannot be used as sent.
    """
    if event in IGNORED_EVENTS:
        return []
    builder = _BUILDERS.get(event)
    if builder is None:
        raise PayloadError(
            f"event {event!r} is not one the CRM subscribes to", code="unknown_event"
        )
    try:
        payload = _loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}", code="malformed_json") from exc
    if not isinstance(payload, dict):
        raise PayloadError("body is not a JSON object", code="malformed_json")
    if b"\\u0000" in body:  # JSON can only carry a NUL escaped; most bodies have none
        payload = _without_nul(payload)
    try:
        return [builder(event, payload)]
    except MoneyError as exc:
        raise PayloadError(str(exc), code=exc.code) from exc
    except (AttributeError, TypeError, KeyError) as exc:
        raise PayloadError(f"payload has an unexpected shape: {exc!r}", code="bad_payload") from exc

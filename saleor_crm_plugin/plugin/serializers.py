"""Saleor's model objects turned into the JSON our subscription queries produce.

The plugin door stores exactly what the app door stores, so one parser and one set-based apply
path serve both. Plain functions over attribute access: they take Saleor's models in
production and anything shaped like them in tests, and never touch the database themselves
beyond the relations they follow.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from decimal import Decimal
from typing import Any


def global_id(kind: str, pk: object) -> str:
    """Saleor's GraphQL id (``base64("Order:<uuid>")``), so both doors name objects alike."""
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _money(value: Any, currency: str) -> dict[str, Any]:
    return {"amount": Decimal(value or 0), "currency": currency}


def _taxed(gross: Any, net: Any, currency: str) -> dict[str, Any]:
    return {"gross": _money(gross, currency), "net": _money(net, currency)}


def _all(manager: Any) -> Iterable[Any]:
    return manager.all() if hasattr(manager, "all") else (manager or [])


def _lines(manager: Any) -> list[Any]:
    """An order's or checkout's lines with their variant, product and category, read in one
    query (or, when Saleor already fetched the lines, one more for the variants) instead of
    three round trips per line: on a busy database each round trip, not the Python, was most
    of what building a payload cost."""
    if not (hasattr(manager, "select_related") and hasattr(manager, "field")):
        return list(_all(manager))  # shaped like Saleor's models (tests)
    cached = getattr(manager.instance, "_prefetched_objects_cache", {})
    if manager.field.remote_field.get_accessor_name() not in cached:
        return list(manager.select_related("variant__product__category"))
    lines = list(manager.all())
    if lines:
        from django.db.models import Prefetch, prefetch_related_objects

        field = lines[0]._meta.get_field("variant")
        missing = [
            line for line in lines if line.variant_id is not None and not field.is_cached(line)
        ]
        if missing:
            variants = field.related_model._base_manager.select_related("product__category")
            prefetch_related_objects(missing, Prefetch("variant", queryset=variants))
    return lines


def _related(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``obj``'s related rows by field name, those not already loaded read in one query rather
    than one each (an order's customer and two addresses: three round trips become one)."""
    meta = getattr(obj, "_meta", None)
    if meta is None:
        return {name: getattr(obj, name) for name in names}
    missing = [
        name
        for name in names
        if getattr(obj, meta.get_field(name).attname) is not None
        and not meta.get_field(name).is_cached(obj)
    ]
    found: dict[str, Any] = {}
    if len(missing) > 1:
        fresh = (
            type(obj)
            ._base_manager.using(obj._state.db)
            .select_related(*missing)
            .filter(pk=obj.pk)
            .first()
        )
        if fresh is not None:  # gone meanwhile: each read on its own below
            found = {name: getattr(fresh, name) for name in missing}
    return {name: found[name] if name in found else getattr(obj, name) for name in names}


def _address(address: Any) -> dict[str, Any] | None:
    if address is None:
        return None
    country = getattr(address, "country", None)
    code = getattr(country, "code", country)
    return {
        "city": getattr(address, "city", ""),
        "country": {"code": str(code or "")},
        "phone": str(getattr(address, "phone", "") or ""),
    }


def _shipping(address: Any) -> dict[str, Any] | None:
    """An order's shipping address as our order query selects it: the street too, for the
    referral abuse check (which keeps only a keyed hash of it)."""
    found = _address(address)
    if found is not None:
        found["streetAddress1"] = getattr(address, "street_address_1", "")
        found["postalCode"] = getattr(address, "postal_code", "")
    return found


def _card(item: Any) -> dict[str, Any] | None:
    """Card details of a transaction item (Saleor 3.22+) or legacy payment, as Saleor's
    ``CardPaymentMethodDetails`` / ``CreditCard`` show them; None when it was not a card."""
    if not getattr(item, "cc_last_digits", ""):
        return None
    return {
        "__typename": "CardPaymentMethodDetails",
        "brand": getattr(item, "cc_brand", "") or None,
        "firstDigits": getattr(item, "cc_first_digits", "") or None,
        "lastDigits": item.cc_last_digits,
        "expMonth": getattr(item, "cc_exp_month", None),
        "expYear": getattr(item, "cc_exp_year", None),
    }


def _credit_card(payment: Any) -> dict[str, Any] | None:
    card = _card(payment)
    return {k: v for k, v in card.items() if k != "__typename"} if card else None


def _channel(channel: Any) -> dict[str, Any]:
    return {
        "id": global_id("Channel", channel.pk),
        "slug": channel.slug,
        "currencyCode": channel.currency_code,
    }


def _user_ref(user: Any) -> dict[str, Any] | None:
    return {"id": global_id("User", user.pk), "email": user.email} if user is not None else None


def _variant(variant: Any) -> dict[str, Any] | None:
    if variant is None:
        return None
    product = variant.product
    category = getattr(product, "category", None)
    return {
        "id": global_id("ProductVariant", variant.pk),
        "sku": variant.sku,
        "name": variant.name,
        "product": {
            "id": global_id("Product", product.pk),
            "name": product.name,
            "slug": product.slug,
            "category": (
                {
                    "id": global_id("Category", category.pk),
                    "name": category.name,
                    "slug": category.slug,
                }
                if category is not None
                else None
            ),
        },
    }


def _language(code: Any) -> str:
    """Saleor stores ``pt-br``; its GraphQL enum (what the app door sees) says ``PT_BR``."""
    return str(code or "").replace("-", "_").upper()


def refunded_amount(
    order: Any, payments: list[Any] | None = None, transactions: list[Any] | None = None
) -> Decimal:
    """What Saleor's ``Order.totalRefunded`` says, so both doors see the same refunds.

    Stores on the legacy payments API (Saleor's Stripe, Adyen ... plugins) record refunds as
    successful ``refund`` transactions of the order's last payment; Saleor counts those while
    that payment is active or fully refunded, and otherwise the transaction items' refunds.
    """
    if payments is None:
        payments = list(_all(getattr(order, "payments", [])))
    last = max(payments, key=lambda p: p.pk) if payments else None
    if last is not None and (last.is_active or last.charge_status == "fully-refunded"):
        return sum(
            (
                Decimal(t.amount or 0)
                for t in _all(last.transactions)
                if t.kind == "refund" and t.is_success
            ),
            Decimal(0),
        )
    if transactions is None:
        transactions = list(_all(getattr(order, "payment_transactions", [])))
    return sum((Decimal(t.refunded_value or 0) for t in transactions), Decimal(0))


def order_payload(order: Any) -> dict[str, Any]:
    currency = order.currency
    related = _related(order, ("channel", "user", "billing_address", "shipping_address"))
    # Each relation read once: the refund sum and the lists below share them.
    payments = list(_all(getattr(order, "payments", [])))
    transactions = list(_all(getattr(order, "payment_transactions", [])))
    refunded = refunded_amount(order, payments, transactions)
    return {
        "id": global_id("Order", order.pk),
        "number": str(order.number),
        "created": _iso(order.created_at),
        "updatedAt": _iso(order.updated_at),
        "status": str(order.status).upper(),
        "channel": _channel(related["channel"]),
        "user": _user_ref(related["user"]),
        "userEmail": order.user_email or (related["user"].email if related["user"] else None),
        "languageCodeEnum": _language(order.language_code),
        "billingAddress": _address(related["billing_address"]),
        "shippingAddress": _shipping(related["shipping_address"]),
        "total": _taxed(order.total_gross_amount, order.total_net_amount, currency),
        "totalCharged": _money(order.total_charged_amount, currency),
        "totalRefunded": _money(refunded, currency),
        "lines": [
            {
                "productName": line.product_name,
                "productSku": line.product_sku,
                "productVariantId": line.product_variant_id,
                "quantity": line.quantity,
                "totalPrice": _taxed(
                    line.total_price_gross_amount, line.total_price_net_amount, currency
                ),
                "variant": _variant(line.variant),
            }
            for line in _lines(order.lines)
        ],
        "transactions": [
            {"name": t.name, "pspReference": t.psp_reference, "paymentMethodDetails": _card(t)}
            for t in transactions
        ],
        "payments": [
            {"gateway": p.gateway, "pspReference": p.psp_reference, "creditCard": _credit_card(p)}
            for p in payments
        ],
        "checkoutId": global_id("Checkout", order.checkout_token) if order.checkout_token else None,
        "voucherCode": getattr(order, "voucher_code", None) or None,
    }


def checkout_payload(checkout: Any) -> dict[str, Any]:
    currency = checkout.currency
    related = _related(checkout, ("channel", "user", "billing_address", "shipping_address"))
    return {
        "id": global_id("Checkout", checkout.token),
        "token": str(checkout.token),
        "created": _iso(checkout.created_at),
        "updatedAt": _iso(checkout.last_change),
        "lastChange": _iso(checkout.last_change),
        "email": checkout.email,
        "user": _user_ref(related["user"]),
        "channel": _channel(related["channel"]),
        "languageCode": _language(checkout.language_code),
        "billingAddress": _address(related["billing_address"]),
        "shippingAddress": _address(related["shipping_address"]),
        "totalPrice": _taxed(checkout.total_gross_amount, checkout.total_net_amount, currency),
        "lines": [
            {
                "quantity": line.quantity,
                "variant": _variant(line.variant),
                "totalPrice": _taxed(
                    getattr(line, "total_price_gross_amount", 0),
                    getattr(line, "total_price_net_amount", 0),
                    currency,
                ),
            }
            for line in _lines(checkout.lines)
        ],
    }


def user_payload(user: Any) -> dict[str, Any]:
    return {
        "id": global_id("User", user.pk),
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "isActive": user.is_active,
        "dateJoined": _iso(user.date_joined),
        "updatedAt": _iso(user.updated_at),
        "languageCode": _language(user.language_code),
        "defaultBillingAddress": _address(user.default_billing_address),
        "defaultShippingAddress": _address(user.default_shipping_address),
    }

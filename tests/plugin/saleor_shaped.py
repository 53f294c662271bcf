"""Objects shaped like Saleor's models (the attributes the plugin reads), built from recordings.

Saleor is not installable here, so the recorded webhook of an order is turned back into the
model attributes Saleor would have handed the plugin for that same order.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace as Model
from typing import Any


def pk(global_id: str) -> str:
    return base64.b64decode(global_id).decode().split(":", 1)[1]


class Related(list):
    def all(self) -> list:
        return list(self)


def _address(node: dict | None) -> Any:
    if not node:
        return None
    return Model(
        city=node["city"],
        country=Model(code=node["country"]["code"]),
        street_address_1=node.get("streetAddress1", ""),
        postal_code=node.get("postalCode", ""),
        phone=node.get("phone") or "",
    )


def _card(node: dict | None) -> dict[str, Any]:
    """Saleor's cc_* columns of a transaction item or payment, from its card details."""
    node = node or {}
    return {
        "cc_brand": node.get("brand") or "",
        "cc_first_digits": node.get("firstDigits") or "",
        "cc_last_digits": node.get("lastDigits") or "",
        "cc_exp_month": node.get("expMonth"),
        "cc_exp_year": node.get("expYear"),
    }


def _payment(pk: int, node: dict) -> Any:
    """A legacy payment, inactive, so refunds still come from the transaction items."""
    return Model(
        pk=pk,
        gateway=node["gateway"],
        psp_reference=node.get("pspReference", ""),
        is_active=False,
        charge_status="",
        transactions=Related(),
        **_card(node["creditCard"]),
    )


def _variant(node: dict | None) -> Any:
    if node is None:
        return None
    product = node["product"]
    category = product.get("category")
    return Model(
        pk=pk(node["id"]),
        sku=node["sku"],
        name=node["name"],
        product=Model(
            pk=pk(product["id"]),
            name=product["name"],
            slug=product["slug"],
            category=Model(pk=pk(category["id"]), name=category["name"], slug=category["slug"])
            if category
            else None,
        ),
    )


def _channel(node: dict) -> Any:
    return Model(pk=pk(node["id"]), slug=node["slug"], currency_code=node["currencyCode"])


def order_from_recording(body: bytes) -> Any:
    o = json.loads(body, parse_float=Decimal)["order"]
    user = o["user"]
    return Model(
        pk=pk(o["id"]),
        number=int(o["number"]),
        created_at=datetime.fromisoformat(o["created"]),
        updated_at=datetime.fromisoformat(o["updatedAt"]),
        status=o["status"].lower(),
        channel=_channel(o["channel"]),
        user=Model(pk=pk(user["id"]), email=user["email"]) if user else None,
        user_email=o["userEmail"],
        language_code=o["languageCodeEnum"].lower().replace("_", "-"),
        billing_address=_address(o["billingAddress"]),
        shipping_address=_address(o["shippingAddress"]),
        currency=o["channel"]["currencyCode"],
        total_gross_amount=o["total"]["gross"]["amount"],
        total_net_amount=o["total"]["net"]["amount"],
        total_charged_amount=o["totalCharged"]["amount"],
        lines=Related(
            Model(
                product_name=line["productName"],
                product_sku=line["productSku"],
                product_variant_id=line["productVariantId"],
                quantity=line["quantity"],
                total_price_gross_amount=line["totalPrice"]["gross"]["amount"],
                total_price_net_amount=line["totalPrice"]["net"]["amount"],
                variant=_variant(line["variant"]),
            )
            for line in o["lines"]
        ),
        payment_transactions=Related(
            Model(
                name=t["name"],
                refunded_value=t["refundedAmount"]["amount"],
                **_card(t.get("paymentMethodDetails")),
                psp_reference=t["pspReference"],
            )
            for t in o["transactions"]
        ),
        # Legacy payments only where a test gave them card details (the recording has none).
        payments=Related(
            _payment(i, p) for i, p in enumerate(o["payments"], 1) if p.get("creditCard")
        ),
        checkout_token=pk(o["checkoutId"]) if o["checkoutId"] else "",
        voucher_code=o.get("voucherCode"),
    )


def user_from_recording(body: bytes) -> Any:
    u = json.loads(body)["user"]
    return Model(
        pk=pk(u["id"]),
        email=u["email"],
        first_name=u["firstName"],
        last_name=u["lastName"],
        is_active=u["isActive"],
        date_joined=datetime.fromisoformat(u["dateJoined"]),
        updated_at=datetime.fromisoformat(u["updatedAt"]),
        language_code=u["languageCode"].lower(),
        default_billing_address=_address(u["defaultBillingAddress"]),
        default_shipping_address=_address(u["defaultShippingAddress"]),
    )

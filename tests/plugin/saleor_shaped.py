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
    return Model(city=node["city"], country=Model(code=node["country"]["code"])) if node else None


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
                psp_reference=t["pspReference"],
            )
            for t in o["transactions"]
        ),
        payments=Related(),
        checkout_token=pk(o["checkoutId"]) if o["checkoutId"] else "",
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

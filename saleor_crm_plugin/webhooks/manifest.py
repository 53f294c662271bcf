"""The Saleor app manifest served at ``GET /api/manifest``.

Saleor installs the app from this document: it grants the permissions, posts the app token to
``tokenTargetUrl`` and creates one webhook per entry in ``webhooks``. Each webhook's subscription
query decides the exact JSON shape Saleor sends us, so the queries are kept as ``.graphql`` files
next to this module, copied verbatim from the deliveries recorded against a real Saleor 3.24
(``../shared/saleor/fixtures/queries``). Keeping them identical means the recorded payloads used by
the tests are exactly what production receives, except for the few order fields added since
(``RECORDING_ADDITIONS``), which tests that need them build into their payloads.

This module is deliberately free of Django imports: the manifest is pure data, and tooling (tests,
the GraphQL validator) builds it without configuring settings or a database.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .. import __version__, saleor_documents
from ..dashboard.pages import extensions

APP_ID = "saleor.crm"

#: The events the CRM subscribes to, lower case as Saleor spells them in the ``Saleor-Event``
#: header. Each has a ``queries/<event>.graphql`` subscription. The recorder also subscribed to
#: ``order_metadata_updated`` and ``account_delete_requested``; the CRM does not use them.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "order_created",
    "order_updated",
    "order_confirmed",
    "order_paid",
    "order_fully_paid",
    "order_cancelled",
    "order_refunded",
    "order_fully_refunded",
    "order_fulfilled",
    "checkout_created",
    "checkout_updated",
    "checkout_fully_paid",
    "customer_created",
    "customer_updated",
    "customer_metadata_updated",
    "customer_deleted",
    "account_confirmed",
    "account_deleted",
)

# The same set the fixture recorder was installed with, so the recorded payloads are what we get:
# - MANAGE_ORDERS, MANAGE_CHECKOUTS, MANAGE_USERS: Saleor only delivers ORDER_*, CHECKOUT_* and
#   CUSTOMER_*/ACCOUNT_* events to apps holding them; they also unlock Order.events,
#   Order.grantedRefunds, User.note and Checkout.user in the payloads and the backfill queries.
# - HANDLE_PAYMENTS: Order.transactions / payments, the source of charged and refunded amounts.
# - MANAGE_PRODUCTS: order lines keep their variant/product (category, type) even when the product
#   is unpublished, instead of arriving as null.
# - MANAGE_CHANNELS: full channel data (currency, settings) for multi-currency stores.
# Beyond the recording:
# - MANAGE_DISCOUNTS: loyalty rewards are single-use vouchers the CRM creates (voucherCreate).
# - MANAGE_GIFT_CARD: loyalty rewards the merchant made gift cards (giftCardCreate).
PERMISSIONS: list[str] = [
    "MANAGE_ORDERS",
    "MANAGE_CHECKOUTS",
    "MANAGE_USERS",
    "HANDLE_PAYMENTS",
    "MANAGE_PRODUCTS",
    "MANAGE_CHANNELS",
    "MANAGE_DISCOUNTS",
    "MANAGE_GIFT_CARD",
]


#: Fields the order queries select beyond the recording, as (recorded text, our text): the
#: shipping street and the cards paid with, hashed for referral abuse checks (loyalty), and the
#: legacy payments' PSP reference, which links Stripe's refunds and disputes to the order.
RECORDING_ADDITIONS: tuple[tuple[str, str], ...] = (
    (
        "shippingAddress { city postalCode country { code } }",
        "shippingAddress { streetAddress1 city postalCode country { code } }",
    ),
    (
        "events { id type amount { amount currency } createdAt pspReference message } }",
        "events { id type amount { amount currency } createdAt pspReference message }\n"
        "    paymentMethodDetails { __typename ... on CardPaymentMethodDetails "
        "{ brand firstDigits lastDigits expMonth expYear } } }",
    ),
    (
        "payments { id gateway chargeStatus",
        "payments { id gateway pspReference chargeStatus",
    ),
    (
        "capturedAmount { amount currency } }",
        "capturedAmount { amount currency }\n"
        "    creditCard { brand firstDigits lastDigits expMonth expYear } }",
    ),
)


@cache
def subscription_query(event: str) -> str:
    """The subscription query for ``event`` (lower case), from the shared documents.

    Unknown events raise ``ValueError`` with the list of valid names, so a typo fails loudly.
    """
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}; expected one of {WEBHOOK_EVENTS}")
    return saleor_documents.subscription(event)


def build_manifest(base_url: str) -> dict[str, Any]:
    """The manifest for an app reachable at ``base_url`` (scheme and host, optional path).

    Every webhook posts to the single ``/api/webhooks`` door: the view tells events apart by the
    ``Saleor-Event`` header, so one URL (and one signature check) serves them all.
    """
    base = base_url.rstrip("/")
    return {
        "id": APP_ID,
        "version": __version__,
        "name": "CRM",
        "about": (
            "Customer profiles in your base currency, built from every order, payment, refund, "
            "checkout and customer change."
        ),
        "permissions": list(PERMISSIONS),
        # The CRM page: the dashboard opens it from the Apps list and joins APP_PAGE paths to it.
        "appUrl": f"{base}/dashboard",
        "tokenTargetUrl": f"{base}/api/register",
        "homepageUrl": base,
        "author": "Saleor CRM",
        # 3.22: Order.transactions.paymentMethodDetails (referral abuse checks); Saleor refuses
        # to install an app whose subscription queries do not validate.
        "requiredSaleorVersion": "^3.22",
        "extensions": extensions(base),
        "webhooks": [
            {
                "name": event,
                "asyncEvents": [event.upper()],
                "query": subscription_query(event),
                "targetUrl": f"{base}/api/webhooks",
                "isActive": True,
            }
            for event in WEBHOOK_EVENTS
        ],
    }

"""A delivery whose signature verifies is always kept; bad content is marked, never lost."""

from __future__ import annotations

import json

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_crm_plugin.inbox.services import drain, reprocess
from saleor_crm_plugin.models import Delivery, Profile
from tests import recordings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sign(tenant):
    """Sign bodies as Saleor does (RS256, detached, unencoded) with a key in the tenant's JWKS."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    tenant.jwks = {"keys": [{**public, "kid": "k2", "alg": "RS256", "use": "sig"}]}
    tenant.save(update_fields=["jwks"])

    def signature(body: bytes) -> str:
        return jwt.api_jws.encode(
            body,
            key,
            algorithm="RS256",
            headers={"kid": "k2", "b64": False, "crit": ["b64"]},
            is_payload_detached=True,
        )

    return signature


def deliver(live_server, sign, event: str, body: bytes) -> requests.Response:
    headers = {
        "Content-Type": "application/json",
        "Saleor-Event": event,
        "Saleor-Api-Url": recordings.API_URL,
        "Saleor-Signature": sign(body),
    }
    return requests.post(f"{live_server.url}/api/webhooks", data=body, headers=headers, timeout=10)


def order_body(**changes: object) -> bytes:
    """The recorded order #21 with some fields changed."""
    payload = json.loads(recordings.delivery(10).body)
    order = payload["order"]
    for path, value in changes.items():
        target = order
        *parents, leaf = path.split("__")
        for name in parents:
            target = target[name]
        target[leaf] = value
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (order_body(channel__currencyCode="XYZ"), "unknown_currency", "XYZ"),
        (
            order_body(total__gross={"amount": -5.0, "currency": "EUR"}),
            "invalid_amount",
            "negative",
        ),
        (
            order_body(total__gross={"amount": 1.234, "currency": "EUR"}),
            "invalid_amount",
            "decimals",
        ),
        (order_body(total__gross={"amount": 1e300, "currency": "EUR"}), "invalid_amount", "beyond"),
        (order_body(totalRefunded={"amount": 1.0, "currency": "USD"}), "currency_mismatch", "USD"),
        (order_body(user=None, userEmail=None), "missing_customer", "neither"),
        (order_body(created="yesterday"), "bad_payload", "ISO 8601"),
        (b'{"__typename": "OrderCreated", "order": ', "malformed_json", "not JSON"),
        (b"[1, 2, 3]", "malformed_json", "not a JSON object"),
    ],
)
def test_signed_bad_content_is_kept_with_a_clear_reason(
    live_server, sign, rates, body, code, words
):
    response = deliver(live_server, sign, "order_created", body)
    assert response.status_code == 200  # Saleor must not resend it: it will not get better
    kept = Delivery.objects.get()
    assert bytes(kept.body) == body
    assert (kept.state, kept.error_code) == ("failed", code)
    assert words in kept.error_message
    assert Profile.objects.count() == 0


def test_an_event_we_do_not_subscribe_to_is_kept_and_marked(live_server, sign):
    response = deliver(live_server, sign, "product_created", b'{"product": {"id": "x"}}')
    assert response.status_code == 200
    kept = Delivery.objects.get()
    assert (kept.state, kept.error_code) == ("failed", "unknown_event")


def test_hostile_strings_are_stored_and_shown_as_sent(live_server, sign, rates):
    name = "Zoë \u202e<script>\x00" + "名" * 300
    payload = json.loads(recordings.delivery(1).body)
    payload["user"]["firstName"] = name
    payload["user"]["email"] = "ZOË@EXAMPLE.COM"
    body = json.dumps(payload).encode()
    assert deliver(live_server, sign, "customer_created", body).status_code == 200
    profile = Profile.objects.get()
    assert profile.email == "zoë@example.com"
    assert profile.first_name == name.replace("\x00", "")[:256]


def test_a_failed_delivery_applies_after_a_fix(live_server, sign, rates):
    from saleor_crm_plugin.money.models import FxRate

    FxRate.objects.all().delete()
    yuki_jpy_order = recordings.delivery(50).body
    assert deliver(live_server, sign, "order_created", yuki_jpy_order).status_code == 200
    assert Delivery.objects.get().error_code == "missing_fx_rate"
    from pathlib import Path

    from saleor_crm_plugin.money.services import load_rates

    load_rates(Path(__file__).parents[1] / "data" / "rates.csv")
    assert reprocess() == 1
    drain()
    assert Delivery.objects.get().state == "processed"
    assert Profile.objects.get().spent_gross_minor == 9749  # 15598 JPY at 160 JPY/EUR

"""Hostile input at every webhook door: never a server error, forged requests leave nothing.

Hypothesis throws unicode, control characters, NUL, very long strings, malformed JSON, wrong
types, wrong currencies and negative or enormous amounts at the four doors (Saleor, Stripe,
Twilio, WhatsApp). A forged or unsigned request must get a 4xx (the sender must never retry it)
and store no delivery; a genuinely signed request with hostile content is answered 2xx or 4xx,
and whatever it carries is kept or refused, never a 500.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from saleor_crm_plugin.messaging.accounts import set_account as set_channels
from saleor_crm_plugin.models import Delivery
from saleor_crm_plugin.payments.accounts import set_account as set_stripe
from tests import recordings, stripe_api, twilio_api, whatsapp_api

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=int(os.environ.get("CRM_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    derandomize=not os.environ.get("CRM_FUZZ_RANDOM"),  # CRM_FUZZ_RANDOM=1 explores new ones
)

# Strings a hostile sender would try: any unicode (including NUL and control characters),
# very long runs, and the classics.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
    st.sampled_from(["\x00", "a\x00b", "\u202e", "💥" * 500, "x" * 70_000, "'; DROP TABLE x;--"]),
)
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300
) | st.sampled_from(["", "x" * 8000, "eyJhbGciOiJSUzI1NiJ9..", "a.b.c", "e30.e30.e30"])
amounts = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["-1", "1e309", "NaN", "Infinity", "", "12,50", None, [], {}]),
)
currencies = st.one_of(
    st.sampled_from(["", "EURO", "xxx", "eur", "€", "\x00\x00\x00", "ZZZ"]), hostile_text
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | amounts | hostile_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.sampled_from([b"", b"{", b"[]", b"null", b'{"a": 1e999999}', b"\xff\xfe", b"\x00" * 50]),
)


def hostile_order(base: dict, text: str, amount: Any, currency: str) -> dict:
    """A recorded Saleor order with its money and strings replaced."""
    order = json.loads(json.dumps(base))
    order["userEmail"] = text
    order["number"] = text
    for key in ("total", "subtotal", "shippingPrice", "undiscountedTotal"):
        if isinstance(order.get(key), dict):
            for part in ("gross", "net"):
                if isinstance(order[key].get(part), dict):
                    order[key][part] = {"amount": amount, "currency": currency}
    return order


def no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]


@pytest.fixture
def quiet_client() -> Client:
    return Client()


@given(
    body=bodies,
    event=header_text,
    api_url=header_text,
    signature=header_text,
)
@FUZZ
def test_forged_saleor_deliveries_get_4xx_and_leave_nothing(
    quiet_client, tenant, body, event, api_url, signature
):
    for url in (api_url, recordings.API_URL):
        response = quiet_client.post(
            "/api/webhooks",
            data=body,
            content_type="application/json",
            headers={"Saleor-Event": event, "Saleor-Api-Url": url, "Saleor-Signature": signature},
        )
        no_server_error(response)
        assert 400 <= response.status_code < 500
        assert response.json()["error"]["code"]
    assert Delivery.objects.count() == 0


@pytest.fixture
def signed_tenant(tenant):
    """The tenant's JWKS holds the DemoSigner's key, so the test signs as Saleor does."""
    from saleor_crm_plugin.demo.signing import DemoSigner

    signer = DemoSigner()
    tenant.jwks = signer.jwks()
    tenant.save(update_fields=["jwks"])
    return signer


@given(
    text=hostile_text,
    amount=amounts,
    currency=currencies,
    event=st.sampled_from(
        ["order_created", "order_updated", "order_fully_paid", "customer_created"]
    ),
    raw=st.booleans(),
    junk=bodies,
)
@FUZZ
def test_signed_saleor_deliveries_with_hostile_content_never_crash(
    quiet_client,
    signed_tenant,
    django_capture_on_commit_callbacks,
    text,
    amount,
    currency,
    event,
    raw,
    junk,
):
    base = json.loads(recordings.delivery(10).body)
    if raw:
        body = junk
    else:
        items = base if isinstance(base, list) else [base]
        payload = [
            {**item, "order": hostile_order(item.get("order") or {}, text, amount, currency)}
            if isinstance(item, dict)
            else item
            for item in items
        ]
        body = json.dumps(payload).encode()
    before = Delivery.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = quiet_client.post(
            "/api/webhooks",
            data=body,
            content_type="application/json",
            headers={
                "Saleor-Event": event,
                "Saleor-Api-Url": recordings.API_URL,
                "Saleor-Signature": signed_tenant.sign(body),
            },
        )
    no_server_error(response)
    # A genuine delivery is kept even when its content is bad (marked, never lost).
    assert response.status_code == 200, response.content[:300]
    assert Delivery.objects.count() == before + (0 if response.json()["duplicate"] else 1)


@given(body=bodies, signature=header_text, text=hostile_text, amount=amounts, currency=currencies)
# Found by this test: infinity crashed the drain (OverflowError); a NUL in the event type was
# answered 503, so Stripe would have retried it for days.
@example(body=b"", signature="", text="\x00", amount=float("inf"), currency="eur")
@example(body=b"", signature="", text="pi_1", amount=10**30, currency="eur")
@FUZZ
def test_stripe_door_refuses_forgeries_and_survives_hostile_events(
    quiet_client,
    tenant,
    django_capture_on_commit_callbacks,
    body,
    signature,
    text,
    amount,
    currency,
):
    set_stripe(tenant, webhook_secret=stripe_api.SECRET)
    url = f"/api/stripe/{tenant.pk}/webhooks"
    before = Delivery.objects.count()
    forged = quiet_client.post(
        url, data=body, content_type="application/json", headers={"Stripe-Signature": signature}
    )
    assert forged.status_code == 400 and forged.json()["error"]["code"]
    assert Delivery.objects.count() == before
    obj = {"id": text or "ch_1", "object": "charge", "amount": amount, "amount_refunded": amount,
           "currency": currency, "payment_intent": text, "charge": text or "ch_1",
           "status": text, "current_period_end": amount, "cancel_at": amount,
           "customer": text, "items": {"data": [{"price": {"id": text}}]},
           "metadata": {"crm_tenant": str(tenant.pk), "crm_profile": amount,
                        text: text}}  # fmt: skip
    kinds = ("charge.refunded", "charge.dispute.closed", "customer.subscription.updated", text)
    for kind in kinds:
        signed_body = stripe_api.event(kind or "x", obj)
        with django_capture_on_commit_callbacks(execute=True):
            response = quiet_client.post(
                url,
                data=signed_body,
                content_type="application/json",
                headers={"Stripe-Signature": stripe_api.signature(signed_body)},
            )
        no_server_error(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = quiet_client.post(
            url,
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": stripe_api.signature(body)},
        )
    no_server_error(response)


@given(fields=st.dictionaries(hostile_text, hostile_text, max_size=6), signature=header_text)
@FUZZ
def test_twilio_door_refuses_forgeries_and_survives_hostile_messages(
    quiet_client, tenant, django_capture_on_commit_callbacks, fields, signature
):
    from urllib.parse import urlencode

    set_channels(tenant, {"twilio_auth_token": twilio_api.AUTH_TOKEN})
    path = reverse("saleor_crm_webhooks:twilio-sms", args=[tenant.pk])
    body = urlencode(fields)
    before = Delivery.objects.count()
    forged = quiet_client.post(
        path,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert forged.status_code == 403
    assert Delivery.objects.count() == before
    message = {"From": "+4915112345678", "Body": "STOP", "MessageSid": "SM1", **fields}
    with django_capture_on_commit_callbacks(execute=True):
        signed = quiet_client.post(
            path,
            data=urlencode(message),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": twilio_api.sign(f"http://testserver{path}", message)},
        )
    no_server_error(signed)


@given(body=bodies, signature=header_text, value=json_values)
# Found by this test: a "value" that is not an object crashed the drain (AttributeError).
@example(body=b"{}", signature="", value=[])
@example(
    body=b"{}",
    signature="",
    value={"messages": "x", "statuses": [{"status": "failed", "errors": 1}]},
)
@FUZZ
def test_whatsapp_door_refuses_forgeries_and_survives_hostile_payloads(
    quiet_client, tenant, django_capture_on_commit_callbacks, body, signature, value
):
    set_channels(
        tenant,
        {
            "whatsapp_app_secret": whatsapp_api.APP_SECRET,
            "whatsapp_verify_token": whatsapp_api.VERIFY_TOKEN,
        },
    )
    path = reverse("saleor_crm_webhooks:whatsapp-webhook", args=[tenant.pk])
    before = Delivery.objects.count()
    forged = quiet_client.post(
        path, data=body, content_type="application/json", headers={"X-Hub-Signature-256": signature}
    )
    assert forged.status_code == 403
    assert Delivery.objects.count() == before
    payload = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}
    for candidate in (json.dumps(payload).encode(), body):
        with django_capture_on_commit_callbacks(execute=True):
            signed = quiet_client.post(
                path,
                data=candidate,
                content_type="application/json",
                headers={"X-Hub-Signature-256": whatsapp_api.sign(candidate)},
            )
        no_server_error(signed)


def test_stripe_amounts_that_are_not_whole_numbers_are_refused_and_kept_as_failed(
    quiet_client, tenant, django_capture_on_commit_callbacks
):
    set_stripe(tenant, webhook_secret=stripe_api.SECRET)
    url = f"/api/stripe/{tenant.pk}/webhooks"
    for n, amount in enumerate([1.5, float("inf"), "100", 10**30, -5]):
        obj = stripe_api.charge("pi_x", amount=1000, refunded=0)
        obj["amount_refunded"] = amount
        body = stripe_api.event("charge.refunded", obj, id=f"evt_bad_{n}")
        with django_capture_on_commit_callbacks(execute=True):
            response = quiet_client.post(
                url,
                data=body,
                content_type="application/json",
                headers={"Stripe-Signature": stripe_api.signature(body)},
            )
        assert response.status_code == 200
    stored = Delivery.objects.filter(source="stripe").values_list("state", "error_code")
    assert sorted(stored) == [("failed", "stripe_amount")] * 5


def test_a_nul_in_a_stripe_event_type_is_a_400_not_a_retry(quiet_client, tenant):
    set_stripe(tenant, webhook_secret=stripe_api.SECRET)
    body = stripe_api.event("charge.\x00refunded", stripe_api.charge("pi_x", amount=1, refunded=1))
    response = quiet_client.post(
        f"/api/stripe/{tenant.pk}/webhooks",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_api.signature(body)},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "MALFORMED_EVENT")
    assert Delivery.objects.count() == 0

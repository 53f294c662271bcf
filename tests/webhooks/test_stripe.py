"""The Stripe door keeps what Stripe signed, once per event id, and nothing else."""

from __future__ import annotations

import json
import time

import pytest

from saleor_crm_plugin.models import Delivery, StripeAccount
from saleor_crm_plugin.payments.accounts import credentials, set_account
from tests.dbfaults import table_locked
from tests.stripe_api import SECRET, charge, event, post, signature

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def url(live_server, tenant) -> str:
    set_account(tenant, webhook_secret=SECRET)
    return f"{live_server.url}/api/stripe/{tenant.pk}/webhooks"


def refund_event(id: str = "evt_door_1") -> bytes:
    return event("charge.refunded", charge("pi_unknown", amount=1000, refunded=500), id=id)


def test_a_signed_event_is_stored_once_per_event_id(url):
    body = refund_event()
    first = post(url, body, signature(body))
    # Stripe retries with a fresh signature timestamp: still the same event
    second = post(url, body, signature(body, at=time.time() - 60))
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (second.status_code, second.json()["duplicate"]) == (200, True)
    stored = Delivery.objects.get()
    assert (stored.source, stored.event, stored.state) == (
        "stripe",
        "stripe.charge.refunded",
        "processed",
    )


def test_the_same_event_id_with_other_bytes_is_still_a_duplicate(url):
    body = refund_event()
    reordered = json.dumps(json.loads(body), indent=2).encode()
    assert post(url, body, signature(body)).status_code == 200
    again = post(url, reordered, signature(reordered))
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=notanumber,v1=abc",
        "v1=deadbeef",
        signature(b"another body"),
        signature(refund_event(), secret="whsec_someone_else"),
    ],
    ids=["missing", "empty", "bad-timestamp", "no-timestamp", "other-body", "other-secret"],
)
def test_an_unsigned_or_forged_event_is_refused_and_not_stored(url, header):
    response = post(url, refund_event(), header)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert Delivery.objects.count() == 0


# 20 s either side of the 300 s limit: the signature is made before the request and checked
# after it, so a margin of 1 s failed whenever the machine was slow to answer.
@pytest.mark.parametrize(("offset", "status"), [(-320, 400), (-280, 200), (280, 200), (320, 400)])
def test_signatures_count_for_300_seconds_either_way(url, offset, status):
    body = refund_event()
    response = post(url, body, signature(body, at=time.time() + offset))
    assert response.status_code == status
    assert Delivery.objects.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", "body is not a Stripe event object"),
        (b'{"type": "charge.refunded", "created": 1, "data": {"object": {}}}', "event has no id"),
        (
            b'{"id": "evt_1", "type": "charge.refunded", "data": {"object": {}}}',
            "event has no created",
        ),
    ],
)
def test_a_signed_body_that_is_no_event_gets_a_clear_400(url, body, message):
    response = post(url, body, signature(body))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_EVENT"
    assert response.json()["error"]["message"].startswith(message)
    assert Delivery.objects.count() == 0


def test_an_unknown_store_is_404(live_server, tenant):
    body = refund_event()
    response = post(
        f"{live_server.url}/api/stripe/{tenant.pk + 99}/webhooks", body, signature(body)
    )
    assert response.status_code == 404
    assert Delivery.objects.count() == 0


def test_without_a_signing_secret_nothing_is_accepted(live_server, tenant):
    body = refund_event()
    response = post(f"{live_server.url}/api/stripe/{tenant.pk}/webhooks", body, signature(body))
    assert (response.status_code, response.json()["error"]["code"]) == (
        400,
        "STRIPE_NOT_CONFIGURED",
    )
    assert Delivery.objects.count() == 0


def test_the_settings_secret_serves_a_store_without_its_own(live_server, tenant, settings):
    settings.CRM_STRIPE_WEBHOOK_SECRET = "whsec_from_settings"
    body = refund_event()
    url = f"{live_server.url}/api/stripe/{tenant.pk}/webhooks"
    assert post(url, body, signature(body, secret="whsec_from_settings")).status_code == 200
    set_account(tenant, webhook_secret=SECRET)  # the store's own secret wins from now on
    other = refund_event("evt_door_2")
    assert post(url, other, signature(other, secret="whsec_from_settings")).status_code == 400
    assert post(url, other, signature(other)).status_code == 200


def test_secrets_are_encrypted_at_rest(tenant):
    set_account(tenant, api_key="sk_test_secret_key", webhook_secret=SECRET)
    row = StripeAccount.objects.get(tenant=tenant)
    assert "sk_test_secret_key" not in row.api_key_encrypted
    assert SECRET not in row.webhook_secret_encrypted
    assert credentials(tenant).api_key == "sk_test_secret_key"
    assert credentials(tenant).webhook_secret == SECRET


def test_a_busy_database_answers_503_so_stripe_retries(url):
    body = refund_event()
    with table_locked():
        assert post(url, body, signature(body)).status_code == 503
    assert Delivery.objects.count() == 0
    assert post(url, body, signature(body)).status_code == 200
    assert Delivery.objects.get().state == "processed"


def test_an_event_type_the_crm_does_not_use_is_kept_and_ignored(url):
    body = event("customer.created", {"id": "cus_1", "object": "customer"})
    assert post(url, body, signature(body)).status_code == 200
    assert Delivery.objects.get().state == "ignored"

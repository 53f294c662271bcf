"""The WhatsApp door: Meta's verification handshake, signed STOP replies, failed statuses."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from saleor_crm_plugin.messaging.accounts import set_account
from saleor_crm_plugin.messaging.models import Message, Status
from saleor_crm_plugin.models import Delivery, TimelineEntry
from saleor_crm_plugin.privacy.models import ConsentEntry, Source
from saleor_crm_plugin.privacy.services import grant_consent, has_consent
from tests import whatsapp_api
from tests.messaging.conftest import make_profile

pytestmark = pytest.mark.django_db

PHONE = "+4915112345678"
EARLIER = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # consent given before


@pytest.fixture
def door(tenant):
    set_account(
        tenant,
        {
            "whatsapp_phone_number_id": whatsapp_api.PHONE_NUMBER_ID,
            "whatsapp_token": whatsapp_api.TOKEN,
            "whatsapp_app_secret": whatsapp_api.APP_SECRET,
            "whatsapp_verify_token": whatsapp_api.VERIFY_TOKEN,
        },
    )
    return reverse("saleor_crm_webhooks:whatsapp-webhook", args=[tenant.pk])


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Post as Meta does; the inbox drain the door asks for runs at the commit, as in prod."""

    def send(path: str, body: bytes, signature: str | None = None):
        header = whatsapp_api.sign(body) if signature is None else signature
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                path,
                data=body,
                content_type="application/json",
                headers={"X-Hub-Signature-256": header},
            )

    return send


def reply(text: str) -> bytes:
    return whatsapp_api.webhook_body(
        {
            "contacts": [{"profile": {"name": "Anna"}, "wa_id": PHONE.lstrip("+")}],
            "messages": [
                {
                    "from": PHONE.lstrip("+"),
                    "id": "wamid.IN1",
                    "timestamp": str(int(time.time())),  # Meta's clock: the moment sent
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def chatting(tenant):
    anna = make_profile(tenant, phone=PHONE)
    grant_consent(anna, "marketing_whatsapp", source=Source.ACCOUNT, at=EARLIER)
    grant_consent(anna, "marketing_sms", source=Source.ACCOUNT, at=EARLIER)
    return anna


def test_meta_verification_echoes_the_challenge_only_with_the_stores_verify_token(client, door):
    ok = client.get(
        door,
        {
            "hub.mode": "subscribe",
            "hub.verify_token": whatsapp_api.VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    wrong = client.get(
        door,
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )

    assert (ok.status_code, ok.content) == (200, b"1158201444")
    assert wrong.status_code == 403
    assert b"1158201444" not in wrong.content


def test_a_signed_stop_withdraws_whatsapp_consent_only(post, tenant, door):
    anna = chatting(tenant)

    assert post(door, reply("stop")).status_code == 200

    assert not has_consent(anna, "marketing_whatsapp")
    assert has_consent(anna, "marketing_sms")
    newest = ConsentEntry.objects.filter(profile=anna).latest("id")
    assert (newest.purpose, newest.action, newest.source) == (
        "marketing_whatsapp",
        "withdraw",
        "customer",
    )


def test_a_forged_stop_gets_403_and_changes_nothing(post, tenant, door):
    anna = chatting(tenant)
    lines = ConsentEntry.objects.count()
    body = reply("STOP")

    forged = post(door, body, signature=whatsapp_api.sign(body, secret="not-the-secret"))
    unsigned = post(door, body, signature="")

    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert ConsentEntry.objects.count() == lines
    assert not Delivery.objects.exists()
    assert has_consent(anna, "marketing_whatsapp")


def test_a_failed_status_marks_the_sent_message_failed(post, tenant, door):
    anna = chatting(tenant)
    message = Message.objects.create(
        tenant=tenant,
        profile=anna,
        channel="whatsapp",
        purpose="marketing",
        kind="abandoned_checkout",
        locale="de",
        dedupe_key="k:whatsapp",
        status=Status.SENT,
        provider_message_id="wamid.OUT1",
        created_at="2026-06-10T10:00:00Z",
        due_at="2026-06-10T10:00:00Z",
    )
    body = whatsapp_api.webhook_body(
        {
            "statuses": [
                {
                    "id": "wamid.OUT1",
                    "status": "failed",
                    "timestamp": str(int(time.time())),
                    "recipient_id": PHONE.lstrip("+"),
                    "errors": [{"code": 131026, "title": "Message undeliverable"}],
                }
            ]
        }
    )

    assert post(door, body).status_code == 200

    message.refresh_from_db()
    assert (message.status, message.reason, message.last_error) == (
        Status.FAILED,
        "undelivered",
        "whatsapp error 131026",
    )
    assert TimelineEntry.objects.filter(profile=anna, kind="crm.message.failed").count() == 1

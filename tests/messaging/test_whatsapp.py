"""WhatsApp through a local stand-in for Meta's Cloud API: approved templates, consent, retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_crm_plugin.messaging import services
from saleor_crm_plugin.messaging.accounts import set_account
from saleor_crm_plugin.messaging.models import Message, Purpose, Status
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent
from saleor_crm_plugin.tenants import store_settings
from tests import whatsapp_api
from tests.messaging.conftest import cart, make_profile

pytestmark = pytest.mark.django_db

NOON_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
PHONE = "+4915112345678"


@pytest.fixture(scope="module")
def meta_server():
    server = whatsapp_api.WhatsAppStandIn()
    yield server
    server.close()


@pytest.fixture
def meta(settings, tenant, meta_server):
    meta_server.requests.clear()
    meta_server.scripted.clear()
    settings.CRM_WHATSAPP_API_BASE = meta_server.base_url
    settings.CRM_WHATSAPP_API_VERSION = whatsapp_api.VERSION
    settings.CRM_SHOP_NAME = "Nordwind"
    set_account(
        tenant,
        {
            "whatsapp_phone_number_id": whatsapp_api.PHONE_NUMBER_ID,
            "whatsapp_token": whatsapp_api.TOKEN,
        },
    )
    store_settings.save(
        tenant,
        {
            store_settings.MEDIA: '{"abandoned_checkout": ["whatsapp"], '
            '"points_expiring": ["whatsapp"]}',
            store_settings.WHATSAPP_TEMPLATES: '{"abandoned_checkout": "cart_reminder"}',
        },
    )
    return meta_server


def chatting(tenant, **overrides):
    profile = make_profile(tenant, **{"phone": PHONE, **overrides})
    grant_consent(profile, "marketing_whatsapp", source=Source.ACCOUNT, wording_version="v1")
    return profile


def remind(profile, key: str = "checkout-1:step-1") -> Message:
    return services.enqueue(
        profile,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key=key,
        data=cart(),
        store_channel="default-channel",
        now=NOON_BERLIN,
    )


def test_a_reminder_goes_as_the_stores_approved_template_in_the_customers_language(tenant, meta):
    anna = chatting(tenant)

    message = remind(anna)
    assert services.send_due(NOON_BERLIN) == 1

    [request] = meta.requests
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "template",
        "template": {
            "name": "cart_reminder",
            "language": {"code": "de"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Anna"},
                        {"type": "text", "text": "75,70\xa0€"},
                        {"type": "text", "text": "https://nordwind.example/checkout?token=abc"},
                    ],
                }
            ],
        },
    }
    message.refresh_from_db()
    assert (message.channel, message.status) == ("whatsapp", Status.SENT)
    assert message.provider_message_id.startswith("wamid.")


def test_a_kind_without_an_approved_template_is_skipped_with_the_reason(tenant, meta):
    anna = chatting(tenant)

    message = services.enqueue(
        anna,
        "points_expiring",
        purpose=Purpose.TRANSACTIONAL,
        dedupe_key="points:1",
        data={"points": 1250, "expires_on": "2026-06-30"},
        now=NOON_BERLIN,
    )

    assert (message.status, message.reason) == (Status.SKIPPED, "no_whatsapp_template")
    assert meta.requests == []


def test_sms_consent_is_not_whatsapp_consent(tenant, meta):
    anna = make_profile(tenant, phone=PHONE)
    grant_consent(anna, "marketing_sms", source=Source.ACCOUNT)

    message = remind(anna)

    assert (message.status, message.reason) == (Status.SKIPPED, "no_consent")


def test_meta_throughput_limit_is_retried_and_an_unknown_template_fails_for_good(tenant, meta):
    anna = chatting(tenant)
    message = remind(anna)
    meta.fail_next(400, 130429, "Rate limit hit")

    services.send_due(NOON_BERLIN)
    message.refresh_from_db()
    assert (message.status, message.reason) == (Status.QUEUED, "retry")

    meta.fail_next(404, 132001, "Template name does not exist in the translation")
    services.send_due(NOON_BERLIN + timedelta(minutes=1))
    message.refresh_from_db()
    assert (message.status, message.reason) == (Status.FAILED, "template_refused")
    assert "132001" in message.last_error
    assert len(meta.requests) == 2

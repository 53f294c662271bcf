"""SMS through a local stand-in for Twilio's Messages API: consent, window, retries, STOP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from saleor_crm_plugin.messaging import services
from saleor_crm_plugin.messaging.accounts import set_account
from saleor_crm_plugin.messaging.locales import SUPPORTED
from saleor_crm_plugin.messaging.models import Message, Purpose, Status, Suppression
from saleor_crm_plugin.messaging.render import render_sms, template_context
from saleor_crm_plugin.models import TimelineEntry
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent
from saleor_crm_plugin.tenants import store_settings
from tests import twilio_api
from tests.messaging.conftest import cart, make_profile

pytestmark = pytest.mark.django_db

NOON_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # a Wednesday
PHONE = "+4915112345678"
GERMAN_REMINDER = (
    "Nordwind: Hallo Anna, Ihr Warenkorb (75,70 €) wartet noch auf Sie: "
    "https://nordwind.example/checkout?token=abc "
    "Antworten Sie STOP, um keine SMS mehr zu erhalten."
)


@pytest.fixture(scope="module")
def twilio_server():
    server = twilio_api.TwilioStandIn()
    yield server
    server.close()


@pytest.fixture
def twilio(settings, tenant, twilio_server):
    server = twilio_server
    server.requests.clear()
    server.scripted.clear()
    settings.CRM_TWILIO_API_BASE = server.base_url
    settings.CRM_SHOP_NAME = "Nordwind"
    set_account(
        tenant,
        {
            "twilio_account_sid": twilio_api.ACCOUNT_SID,
            "twilio_auth_token": twilio_api.AUTH_TOKEN,
            "twilio_from": twilio_api.FROM,
        },
    )
    store_settings.save(tenant, {store_settings.MEDIA: '{"abandoned_checkout": ["sms"]}'})
    return server


def texting(tenant, purpose: str = "marketing_sms", **overrides):
    profile = make_profile(tenant, **{"phone": PHONE, **overrides})
    grant_consent(profile, purpose, source=Source.CHECKOUT, wording_version="v1")
    return profile


def remind(profile, key: str = "checkout-1:step-1", now: datetime = NOON_BERLIN) -> Message:
    return services.enqueue(
        profile,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key=key,
        data=cart(),
        store_channel="default-channel",
        now=now,
    )


def timeline(profile) -> list[tuple[str, str, str]]:
    rows = TimelineEntry.objects.filter(profile=profile, kind__startswith="crm.message.")
    return [
        (kind, data["channel"], data["reason"])
        for kind, data in rows.order_by("id").values_list("kind", "data")
    ]


def test_a_reminder_by_sms_reaches_twilio_in_german_with_the_checkout_link(tenant, twilio):
    anna = texting(tenant)

    message = remind(anna)
    sent = services.send_due(NOON_BERLIN)

    assert sent == 1
    assert twilio.forms() == [
        {"To": PHONE, "From": twilio_api.FROM, "Body": GERMAN_REMINDER},
    ]
    message.refresh_from_db()
    assert (message.channel, message.status) == ("sms", Status.SENT)
    assert message.provider_message_id.startswith("SM")
    assert message.dedupe_key == "checkout-1:step-1:sms"
    assert timeline(anna) == [("crm.message.queued", "sms", ""), ("crm.message.sent", "sms", "")]


def test_email_consent_alone_sends_no_sms(tenant, twilio):
    anna = texting(tenant, purpose="marketing_email")

    message = remind(anna)
    services.send_due(NOON_BERLIN)

    assert (message.status, message.reason) == (Status.SKIPPED, "no_consent")
    assert twilio.requests == []


def test_an_sms_due_at_night_waits_for_the_customers_morning(tenant, twilio):
    anna = texting(tenant)
    night = datetime(2026, 6, 10, 20, 30, tzinfo=UTC)  # 22:30 in Berlin

    message = remind(anna, now=night)
    assert services.send_due(night) == 0

    assert (message.status, message.reason) == (Status.QUEUED, "send_window")
    assert message.due_at == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert twilio.requests == []
    assert services.send_due(message.due_at) == 1
    assert len(twilio.requests) == 1


def test_twilio_busy_429_is_retried_a_minute_later(tenant, twilio):
    anna = texting(tenant)
    message = remind(anna)
    twilio.fail_next(429, 20429, "Too Many Requests")

    assert services.send_due(NOON_BERLIN) == 0
    message.refresh_from_db()
    assert (message.status, message.reason, message.attempts) == (Status.QUEUED, "retry", 1)
    assert message.due_at == NOON_BERLIN + timedelta(minutes=1)
    assert "20429" in message.last_error

    assert services.send_due(NOON_BERLIN + timedelta(minutes=1)) == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(twilio.requests) == 2


def test_twilio_21610_means_the_customer_texted_stop_and_the_number_is_suppressed(tenant, twilio):
    anna = texting(tenant)
    message = remind(anna)
    twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")

    services.send_due(NOON_BERLIN)

    message.refresh_from_db()
    assert (message.status, message.reason) == (Status.FAILED, "stopped")
    assert Suppression.objects.filter(tenant=tenant, reason="stop").count() == 1
    later = remind(anna, key="checkout-2:step-1", now=NOON_BERLIN + timedelta(days=2))
    assert (later.status, later.reason) == (Status.SKIPPED, "stopped")
    assert len(twilio.requests) == 1
    # E-mail to the same customer is not affected by an SMS STOP.
    assert not services.is_suppressed(tenant.pk, anna.email)


def test_a_customer_without_a_phone_number_is_skipped_for_sms(tenant, twilio):
    anna = texting(tenant, phone="")

    message = remind(anna)

    assert (message.status, message.reason) == (Status.SKIPPED, "no_address")


def test_recovery_step_two_goes_by_sms_while_step_one_stays_e_mail(tenant, twilio):
    store_settings.save(tenant, {store_settings.MEDIA: '{"abandoned_checkout#2": ["sms"]}'})
    anna = texting(tenant)
    grant_consent(anna, "marketing_email", source=Source.CHECKOUT)

    first, second = (
        services.enqueue(
            anna,
            "abandoned_checkout",
            purpose=Purpose.MARKETING,
            dedupe_key=f"flow:{step}",
            data={**cart(), "step": step},
            now=NOON_BERLIN,
        )
        for step in (1, 2)
    )

    assert (first.channel, second.channel) == ("email", "sms")


def test_a_message_mapped_to_two_media_is_queued_on_both_and_a_repeat_adds_nothing(tenant, twilio):
    store_settings.save(tenant, {store_settings.MEDIA: '{"abandoned_checkout": ["email", "sms"]}'})
    anna = texting(tenant)  # SMS consent only: the e-mail is skipped, the SMS is the answer

    message = remind(anna)
    again = remind(anna)

    assert (message.channel, message.status) == ("sms", Status.QUEUED)
    assert again.pk == message.pk
    rows = Message.objects.filter(profile=anna).order_by("id")
    assert [(m.channel, m.status, m.reason) for m in rows] == [
        ("email", Status.SKIPPED, "no_consent"),
        ("sms", Status.QUEUED, ""),
    ]


def test_a_store_without_twilio_credentials_skips_sms_with_the_reason(tenant, twilio):
    set_account(tenant, {"twilio_auth_token": ""})
    anna = texting(tenant)

    message = remind(anna)

    assert (message.status, message.reason) == (Status.SKIPPED, "sms_not_configured")


def test_media_settings_that_cannot_work_are_refused_with_what_is_wrong(tenant):
    with pytest.raises(store_settings.InvalidSettings) as refused:
        store_settings.save(tenant, {store_settings.MEDIA: json.dumps({"welcome": ["fax"]})})
    assert refused.value.problems == {
        "message_media": "'welcome': give a list of email, sms, whatsapp, e.g. [\"sms\"]."
    }
    assert store_settings.media_for(tenant, "welcome") == ("email",)


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED if loc != "en"])
def test_sms_texts_are_translated_in_every_locale(locale):
    english = {}
    for kind, data in (
        ("abandoned_checkout", cart()),
        ("points_expiring", {"points": 1250, "expires_on": "2026-06-30"}),
    ):
        texts = []
        for loc in ("en", locale):
            ctx = template_context(kind, loc, data, name="Anna", shop="Nordwind",
                                   time_zone="Europe/Berlin", unsubscribe_url="")  # fmt: skip
            texts.append(render_sms(kind, loc, ctx, stop_hint=True))
        english[kind], translated = texts
        assert translated != english[kind]
        for phrase in ("your cart", "is still waiting", "expire on", "Reply", "opt out"):
            assert phrase not in translated
        assert "STOP" in translated  # the keyword carriers act on stays as it is
        assert "{" not in translated and "%(" not in translated

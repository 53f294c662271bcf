"""The Twilio door: signed STOP/START replies change SMS consent; forged ones change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from saleor_crm_plugin.messaging import services
from saleor_crm_plugin.messaging.accounts import set_account
from saleor_crm_plugin.messaging.models import Message, Purpose, Status, Suppression
from saleor_crm_plugin.models import Delivery, TimelineEntry
from saleor_crm_plugin.privacy.models import ConsentEntry, Source
from saleor_crm_plugin.privacy.services import grant_consent, has_consent
from saleor_crm_plugin.tenants import store_settings
from tests import twilio_api
from tests.messaging.conftest import cart, make_profile

pytestmark = pytest.mark.django_db

PHONE = "+4915112345678"
PUBLIC = "https://crm.example"
NOON_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
EARLIER = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # consent given at an earlier checkout


@pytest.fixture
def door(settings, tenant):
    settings.CRM_PUBLIC_URL = PUBLIC
    settings.CRM_TWILIO_API_BASE = "http://127.0.0.1:9"  # nothing is sent in these tests
    set_account(
        tenant,
        {
            "twilio_account_sid": twilio_api.ACCOUNT_SID,
            "twilio_auth_token": twilio_api.AUTH_TOKEN,
            "twilio_from": twilio_api.FROM,
        },
    )
    store_settings.save(tenant, {store_settings.MEDIA: '{"abandoned_checkout": ["sms"]}'})
    return reverse("saleor_crm_webhooks:twilio-sms", args=[tenant.pk])


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Post as Twilio does; the inbox drain the door asks for runs at the commit, as in prod."""

    def send(path: str, params: dict[str, str], signature: str | None = None):
        header = twilio_api.sign(PUBLIC + path, params) if signature is None else signature
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                path,
                data=twilio_api.form(params),
                content_type="application/x-www-form-urlencoded",
                headers={"X-Twilio-Signature": header},
            )

    return send


def incoming(body: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": twilio_api.ACCOUNT_SID,
        "From": PHONE,
        "To": twilio_api.FROM,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
    }


def texting(tenant):
    anna = make_profile(tenant, phone=PHONE)
    grant_consent(anna, "marketing_sms", source=Source.CHECKOUT, at=EARLIER)
    grant_consent(anna, "marketing_email", source=Source.CHECKOUT, at=EARLIER)
    return anna


def remind(anna, key: str) -> Message:
    return services.enqueue(
        anna,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key=key,
        data=cart(),
        now=NOON_BERLIN,
    )


def test_stop_withdraws_sms_consent_and_a_queued_sms_is_then_skipped_with_the_reason(
    post, tenant, door
):
    anna = texting(tenant)
    queued = remind(anna, "checkout-1:step-1")
    assert queued.status == Status.QUEUED

    answer = post(door, incoming("Stop"))

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/xml")
    kept = Delivery.objects.get()
    assert (kept.source, kept.event, kept.state) == ("twilio", "twilio.sms", "processed")
    assert not has_consent(anna, "marketing_sms")
    assert has_consent(anna, "marketing_email")  # only the medium replied on
    newest = ConsentEntry.objects.filter(profile=anna, purpose="marketing_sms").latest("id")
    assert (newest.action, newest.source, newest.channel) == ("withdraw", "customer", "")
    assert services.send_due(NOON_BERLIN) == 0
    queued.refresh_from_db()
    assert (queued.status, queued.reason) == (Status.SKIPPED, "stopped")
    skipped = TimelineEntry.objects.get(profile=anna, kind="crm.message.skipped")
    assert (skipped.data["channel"], skipped.data["reason"]) == ("sms", "stopped")

    # Twilio retries a webhook it is unsure about: the second STOP adds no ledger line.
    post(door, incoming("STOP"))
    assert ConsentEntry.objects.filter(profile=anna, action="withdraw").count() == 1


@pytest.mark.parametrize(
    "signature",
    ["", "bm90IGEgc2lnbmF0dXJl", twilio_api.sign(PUBLIC + "/elsewhere", incoming("STOP"))],
)
def test_a_forged_or_unsigned_stop_gets_403_and_changes_nothing(post, tenant, door, signature):
    anna = texting(tenant)
    lines = ConsentEntry.objects.count()

    answer = post(door, incoming("STOP"), signature=signature)

    assert answer.status_code == 403
    assert ConsentEntry.objects.count() == lines
    assert has_consent(anna, "marketing_sms")
    assert Suppression.objects.count() == 0
    assert not Delivery.objects.exists()  # not even kept


def test_a_reply_signed_with_another_accounts_token_is_refused(post, tenant, door):
    texting(tenant)
    other = twilio_api.sign(PUBLIC + door, incoming("STOP"), token="someone-elses-token")

    assert post(door, incoming("STOP"), signature=other).status_code == 403
    assert Suppression.objects.count() == 0


def test_start_grants_again_and_new_sms_are_queued(post, tenant, door):
    anna = texting(tenant)
    post(door, incoming("STOP"))
    assert remind(anna, "checkout-2:step-1").reason == "stopped"

    assert post(door, incoming("start")).status_code == 200

    assert has_consent(anna, "marketing_sms")
    assert Suppression.objects.count() == 0
    assert remind(anna, "checkout-3:step-1").status == Status.QUEUED


def test_an_ordinary_reply_changes_nothing(post, tenant, door):
    anna = texting(tenant)
    lines = ConsentEntry.objects.count()

    assert post(door, incoming("Can I stop by the shop tomorrow?")).status_code == 200

    assert ConsentEntry.objects.count() == lines
    assert has_consent(anna, "marketing_sms")


def test_an_undelivered_status_callback_marks_the_message_failed_on_the_timeline(
    post, tenant, door
):
    anna = texting(tenant)
    message = remind(anna, "checkout-1:step-1")
    Message.objects.filter(pk=message.pk).update(status=Status.SENT, provider_message_id="SMabc")
    status = {
        "MessageSid": "SMabc",
        "AccountSid": twilio_api.ACCOUNT_SID,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "To": PHONE,
    }

    assert post(door, status).status_code == 200
    assert post(door, status).status_code == 200  # repeated: one entry

    message.refresh_from_db()
    assert (message.status, message.reason, message.last_error) == (
        Status.FAILED,
        "undelivered",
        "sms error 30003",
    )
    assert TimelineEntry.objects.filter(profile=anna, kind="crm.message.failed").count() == 1


def test_a_stop_from_a_number_no_customer_has_yet_still_stops_texts_to_it(post, tenant, door):
    assert post(door, incoming("STOP")).status_code == 200
    assert Delivery.objects.get().state == "processed"

    anna = texting(tenant)  # the number turns up on an account later

    assert remind(anna, "checkout-1:step-1").reason == "stopped"

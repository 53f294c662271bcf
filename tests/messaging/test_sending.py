"""The outbox end to end through a real SMTP server: consent, windows, cap, bounces, once only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from saleor_crm_plugin.messaging import services
from saleor_crm_plugin.messaging.models import Message, Purpose, Suppression
from saleor_crm_plugin.models import TimelineEntry
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent, withdraw_consent
from tests.mail import free_port
from tests.messaging.conftest import cart, make_profile

pytestmark = pytest.mark.django_db(transaction=True)

# A Wednesday, 12:00 in Berlin: inside every European window.
NOON_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def consenting(tenant, **overrides):
    profile = make_profile(tenant, **overrides)
    grant_consent(profile, "marketing_email", source=Source.CHECKOUT, wording_version="v1")
    return profile


def remind(profile, key: str = "checkout-1:step-1", now: datetime = NOON_BERLIN, **data):
    return services.enqueue(
        profile,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key=key,
        data={**cart(), **data},
        store_channel="default-channel",
        now=now,
    )


def subject(mail) -> str:
    """The header as a mail client shows it (folding may leave a leading space)."""
    return str(mail["Subject"]).strip()


def plain(mail) -> str:
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def timeline(profile) -> list[tuple[str, str]]:
    rows = TimelineEntry.objects.filter(profile=profile, kind__startswith="crm.message.")
    return [
        (kind, data["reason"]) for kind, data in rows.order_by("id").values_list("kind", "data")
    ]


def test_a_reminder_arrives_in_german_with_euro_amounts_and_one_click_unsubscribe(tenant, smtp):
    anna = consenting(tenant)
    remind(anna)
    assert services.send_due(NOON_BERLIN) == 1

    [mail] = smtp.to("anna.mueller@example.de")
    assert subject(mail) == "In Ihrem Warenkorb liegen noch 3 Artikel"
    assert mail["From"] == "Nordwind <hello@nordwind.example>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].strip().startswith("<https://crm.nordwind.example/unsubscribe/")
    text = plain(mail)
    # CLDR's German: decimal comma, a no-break space before the euro sign.
    assert "1 \u00d7 Teekanne Kyoto: 49,90\xa0€" in text
    assert "2 \u00d7 Matcha-Schale: 25,80\xa0€" in text
    assert "Gesamtsumme: 75,70\xa0€" in text
    assert "Zurück zum Warenkorb: https://nordwind.example/checkout?token=abc" in text
    html = mail.get_body(("html",)).get_content()
    assert '<html lang="de" dir="ltr">' in html
    message = Message.objects.get()
    assert (message.status, message.locale, message.attempts) == ("sent", "de", 1)
    assert (
        mail["Message-ID"]
        == message.provider_message_id
        == f"<crm.{tenant.pk}.{message.pk}@nordwind.example>"
    )
    assert timeline(anna) == [("crm.message.queued", ""), ("crm.message.sent", "")]


def test_yen_has_no_minor_units_and_arabic_is_right_to_left(tenant, smtp):
    kenji = consenting(
        tenant,
        email="kenji@example.jp",
        first_name="Kenji",
        language="ja",
        country="JP",
        time_zone="Asia/Tokyo",
    )
    layla = consenting(
        tenant,
        email="layla@example.ae",
        first_name="Layla",
        language="ar",
        country="AE",
        time_zone="Asia/Dubai",
    )
    morning = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 15:00 Tokyo, 10:00 Dubai
    remind(kenji, "checkout-jp:step-1", morning, **cart("JPY", (("急須", 2, 9800),)))
    remind(layla, "checkout-ae:step-1", morning, **cart("KWD", (("فنجان", 1, 12345),)))
    assert services.send_due(morning) == 2

    [jp] = smtp.to("kenji@example.jp")
    assert subject(jp) == "カートに2点の商品が残っています"
    assert "合計: ￥9,800" in plain(jp)  # no minor units in yen
    [ar] = smtp.to("layla@example.ae")
    assert subject(ar) == "بقي منتج واحد (1) في سلة التسوق"
    # Kuwaiti dinar keeps three decimals; CLDR's Arabic marks the amount right-to-left.
    assert "الإجمالي: \u200f12.345\xa0د.ك.\u200f" in plain(ar)
    assert '<html lang="ar" dir="rtl">' in ar.get_body(("html",)).get_content()


def test_without_consent_nothing_is_sent_and_the_timeline_says_why(tenant, smtp):
    anna = make_profile(tenant)
    message = remind(anna)
    assert (message.status, message.reason) == ("skipped", "no_consent")
    assert services.send_due(NOON_BERLIN + timedelta(days=2)) == 0
    assert smtp.messages == []
    assert timeline(anna) == [("crm.message.skipped", "no_consent")]


def test_a_welcome_e_mail_is_transactional_and_needs_no_consent(tenant, smtp):
    anna = make_profile(tenant, language="fr", country="FR", email="anna@example.fr")
    services.enqueue(
        anna, "welcome", purpose=Purpose.TRANSACTIONAL, dedupe_key="welcome:1", now=NOON_BERLIN
    )
    assert services.send_due(NOON_BERLIN) == 1
    [mail] = smtp.to("anna@example.fr")
    assert subject(mail) == "Bienvenue chez Nordwind"
    assert mail["List-Unsubscribe"] is None


@pytest.mark.parametrize(
    ("country", "zone", "language", "night", "morning"),
    [
        ("JP", "Asia/Tokyo", "ja", datetime(2026, 3, 10, 14, 30), datetime(2026, 3, 11, 0, 0)),
        ("DE", "Europe/Berlin", "de", datetime(2026, 3, 28, 21, 0), datetime(2026, 3, 30, 7, 0)),
        ("US", "America/New_York", "en", datetime(2026, 3, 8, 3, 30), datetime(2026, 3, 8, 13, 0)),
        (
            "BR",
            "America/Sao_Paulo",
            "es",
            datetime(2026, 10, 4, 1, 0),
            datetime(2026, 10, 4, 12, 0),
        ),
        ("AU", "Australia/Sydney", "en", datetime(2026, 4, 4, 12, 0), datetime(2026, 4, 4, 23, 0)),
        (
            "AU",
            "Australia/Sydney",
            "en",
            datetime(2026, 10, 3, 14, 0),
            datetime(2026, 10, 3, 22, 0),
        ),
    ],
)
def test_a_reminder_due_at_night_arrives_the_next_morning_local_time(
    tenant, smtp, country, zone, language, night, morning
):
    night, morning = night.replace(tzinfo=UTC), morning.replace(tzinfo=UTC)
    customer = consenting(
        tenant, email="c@example.com", country=country, time_zone=zone, language=language
    )
    message = remind(customer, now=night)
    assert (message.status, message.due_at, message.reason) == ("queued", morning, "send_window")
    assert services.send_due(night) == 0
    assert services.send_due(morning - timedelta(minutes=1)) == 0
    assert smtp.messages == []
    assert services.send_due(morning) == 1
    assert len(smtp.to("c@example.com")) == 1


def test_an_unknown_customer_zone_falls_back_to_the_channel_zone(tenant, smtp, settings):
    settings.CRM_CHANNEL_TIME_ZONES = {"default-channel": "Asia/Tokyo"}
    guest = consenting(tenant, email="g@example.com", country="", time_zone="", language="")
    message = remind(guest, now=datetime(2026, 3, 10, 14, 30, tzinfo=UTC))  # 23:30 in Tokyo
    assert message.due_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
    assert message.locale == "en"


def test_the_merchants_sender_and_channel_window_from_the_store_settings(tenant, smtp):
    from saleor_crm_plugin.tenants import store_settings

    store_settings.save(
        tenant,
        {
            "sender_address": "Nordwind DE <de@nordwind.example>",
            "channel_settings": '{"default-channel": {"send_window": "14:00-15:00"}}',
        },
    )
    anna = consenting(tenant)
    message = remind(anna)  # 12:00 in Berlin: this channel writes from 14:00 only
    assert message.due_at == NOON_BERLIN + timedelta(hours=2)
    assert services.send_due(NOON_BERLIN + timedelta(hours=2)) == 1
    [mail] = smtp.to("anna.mueller@example.de")
    assert mail["From"] == "Nordwind DE <de@nordwind.example>"


def test_the_frequency_cap_queues_the_second_message_instead_of_dropping_it(tenant, smtp):
    anna = consenting(tenant)
    first = remind(anna, key="checkout-1:step-1")
    second = services.enqueue(
        anna, "welcome", purpose=Purpose.MARKETING, dedupe_key="winback:1", now=NOON_BERLIN
    )
    # 16 h after noon is 04:00 in Berlin: the window then opens at 09:00 (07:00 UTC).
    assert (second.status, second.reason) == ("queued", "frequency_cap")
    assert second.due_at == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)
    assert services.send_due(NOON_BERLIN) == 1
    assert Message.objects.get(pk=first.pk).status == "sent"
    assert services.send_due(datetime(2026, 6, 11, 6, 59, tzinfo=UTC)) == 0
    assert services.send_due(datetime(2026, 6, 11, 7, 0, tzinfo=UTC)) == 1
    assert [subject(m) for m in smtp.messages] == [
        "In Ihrem Warenkorb liegen noch 3 Artikel",
        "Willkommen bei Nordwind",
    ]


def test_the_same_flow_step_is_enqueued_once(tenant, smtp):
    anna = consenting(tenant)
    assert remind(anna).pk == remind(anna).pk
    assert Message.objects.count() == 1
    assert services.send_due(NOON_BERLIN) == 1
    assert services.send_due(NOON_BERLIN + timedelta(hours=1)) == 0
    assert len(smtp.messages) == 1


def test_withdrawing_consent_before_the_send_skips_the_queued_message(tenant, smtp):
    anna = consenting(tenant)
    night = datetime(2026, 6, 10, 21, 0, tzinfo=UTC)
    message = remind(anna, now=night)
    assert message.status == "queued"
    withdraw_consent(anna, "marketing_email", source=Source.ACCOUNT)
    assert services.send_due(message.due_at) == 0
    assert smtp.messages == []
    assert Message.objects.get().status == "skipped"
    assert timeline(anna) == [
        ("crm.message.queued", "send_window"),
        ("crm.message.skipped", "consent_withdrawn"),
    ]


def test_a_hard_bounce_suppresses_the_address(tenant, smtp):
    smtp.reject.add("gone@example.de")
    gone = consenting(tenant, email="gone@example.de")
    remind(gone)
    assert services.send_due(NOON_BERLIN) == 0
    failed = Message.objects.get()
    assert (failed.status, failed.reason) == ("failed", "hard_bounce")
    assert Suppression.objects.filter(reason="bounce").count() == 1

    later = NOON_BERLIN + timedelta(days=2)
    again = remind(gone, key="checkout-2:step-1", now=later)
    assert (again.status, again.reason) == ("skipped", "suppressed")
    assert smtp.messages == []


def test_a_complaint_recorded_later_stops_queued_mail(tenant, smtp):
    anna = consenting(tenant)
    message = remind(anna, now=datetime(2026, 6, 10, 21, 0, tzinfo=UTC))
    assert services.record_bounce(tenant.pk, "Anna.Mueller@example.de", "complaint") is True
    assert services.record_bounce(tenant.pk, "anna.mueller@example.de", "complaint") is False
    assert services.send_due(message.due_at) == 0
    assert Message.objects.get().reason == "suppressed"


def test_two_senders_at_once_send_each_message_exactly_once(tenant, smtp):
    for i in range(12):
        customer = consenting(tenant, email=f"c{i}@example.de")
        remind(customer, key=f"checkout-{i}:step-1")
    counts: list[int] = []

    def sender() -> None:
        try:
            counts.append(services.send_due(NOON_BERLIN, limit=3))
            counts.append(services.send_due(NOON_BERLIN, limit=3))
            counts.append(services.send_due(NOON_BERLIN, limit=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 12
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"c{i}@example.de" for i in range(12))
    assert set(Message.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_a_message_claimed_by_a_worker_that_died_is_sent_once_after_the_lease(
    tenant, smtp, settings
):
    settings.CRM_MESSAGE_LEASE_SECONDS = 600
    anna = consenting(tenant)
    remind(anna)
    [claimed] = services.claim_due(NOON_BERLIN, 10)  # ... and the worker dies here
    assert Message.objects.get().status == "sending"
    assert services.send_due(NOON_BERLIN + timedelta(minutes=5)) == 0  # lease still held
    assert services.send_due(NOON_BERLIN + timedelta(minutes=11)) == 1
    assert services.send_due(NOON_BERLIN + timedelta(minutes=30)) == 0
    [mail] = smtp.messages
    message = Message.objects.get(pk=claimed)
    assert (message.status, message.attempts) == ("sent", 2)
    assert mail["Message-ID"] == f"<crm.{tenant.pk}.{claimed}@nordwind.example>"


def test_an_unreachable_smtp_server_is_retried_later_not_dropped(tenant, smtp, settings):
    anna = consenting(tenant)
    remind(anna)
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nobody listens there
    assert services.send_due(NOON_BERLIN) == 0
    waiting = Message.objects.get()
    assert (waiting.status, waiting.reason, waiting.attempts) == ("queued", "retry", 1)
    assert waiting.due_at == NOON_BERLIN + timedelta(minutes=1)
    settings.EMAIL_PORT = working_port
    assert services.send_due(NOON_BERLIN + timedelta(minutes=1)) == 1
    assert len(smtp.messages) == 1


def test_the_periodic_task_sends_what_is_due_now(tenant, smtp):
    from django.utils import timezone

    from saleor_crm_plugin.messaging.tasks import send_due_messages

    anna = make_profile(tenant)
    services.enqueue(
        anna, "welcome", purpose=Purpose.TRANSACTIONAL, dedupe_key="welcome:a", now=timezone.now()
    )
    assert send_due_messages.delay().get() == 1
    assert [subject(m) for m in smtp.messages] == ["Willkommen bei Nordwind"]


def test_a_message_whose_data_cannot_be_rendered_fails_with_the_reason_and_stops(tenant, smtp):
    anna = consenting(tenant)
    services.enqueue(
        anna,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key="broken:1",
        data={"currency": "EUR", "lines": []},  # no total
        now=NOON_BERLIN,
    )
    assert services.send_due(NOON_BERLIN) == 0
    assert services.send_due(NOON_BERLIN + timedelta(hours=1)) == 0
    failed = Message.objects.get()
    assert (failed.status, failed.reason, failed.attempts) == ("failed", "bad_data", 1)
    assert smtp.messages == []
    assert timeline(anna)[-1] == ("crm.message.failed", "bad_data")

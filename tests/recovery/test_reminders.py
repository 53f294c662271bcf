"""Recovery flows end to end: carts arrive through the inbox, reminders go through the outbox
to a real SMTP server (aiosmtpd), in the customer's language and waking hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.demo.catalogue import CHANNELS, PRODUCTS
from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.messaging import services as outbox
from saleor_crm_plugin.models import Message, Profile, RecoveryFlow
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent, withdraw_consent
from saleor_crm_plugin.recovery import services
from saleor_crm_plugin.recovery.messages import send_step
from saleor_crm_plugin.recovery.tasks import schedule_for
from saleor_crm_plugin.service.cases import CaseInput, open_case, update_case
from saleor_crm_plugin.service.types import Actor
from saleor_crm_plugin.tenants import store_settings

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, 19:00 in Tokyo
EUR = next(c for c in CHANNELS if c.slug == "channel-eur")
JPY = next(c for c in CHANNELS if c.slug == "channel-jpy")


def customer(tenant, pk: int, email: str, country: str, language: str) -> Profile:
    """A registered customer with an address in ``country``, who agreed to marketing e-mail."""
    who = p.Person(pk, email, "Eva", "Kern", language, country, True, MONDAY, has_address=True)
    body = p.body("CustomerCreated", MONDAY, None, user=p.user(who))
    accept(tenant, event="customer_created", body=body, headers={})
    drain()
    profile = Profile.objects.get(email=email)
    grant_consent(profile, "marketing_email", source=Source.CHECKOUT, wording_version="v1")
    return profile


def leave_cart(tenant, pk: int, email: str, channel, token: str, price: Decimal, at: datetime):
    who = p.Person(pk, email, "Eva", "Kern", "DE", "DE", True, MONDAY)
    cart = p.Cart(token, channel, who, [(PRODUCTS[0], 1, price), (PRODUCTS[1], 2, price)])
    body = p.body("CheckoutUpdated", at, p.principal(who), checkout=p.checkout(cart, at, False))
    accept(tenant, event="checkout_updated", body=body, headers={})
    drain()
    return cart


def buy(tenant, cart: p.Cart, at: datetime) -> None:
    state = p.OrderState("00000000-0000-4000-8000-000000000077", 77, cart, created=at)
    body = p.body("OrderCreated", at, p.principal(cart.person), order=p.order(state))
    accept(tenant, event="order_created", body=body, headers={})
    drain()


def tick(tenant, now: datetime) -> int:
    """What the periodic tasks do at ``now``: start flows, queue due steps, send due mail."""
    services.start_flows(tenant, schedule_for(tenant), now)
    services.run_due_steps(tenant, send_step, now)
    return outbox.send_due(now)


def test_a_cart_left_in_berlin_gets_german_reminders_until_she_buys(tenant, smtp):
    store_settings.save(tenant, {"checkout_url_template": "https://shop.example/cart/{token}"})
    customer(tenant, 1, "eva@example.de", "DE", "DE")
    cart = leave_cart(tenant, 1, "eva@example.de", EUR, "tok-eva", Decimal("20.00"), MONDAY)

    assert tick(tenant, MONDAY + timedelta(minutes=30)) == 0
    assert tick(tenant, MONDAY + timedelta(hours=1)) == 1
    [first] = smtp.to("eva@example.de")
    assert " ".join(str(first["Subject"]).split()) == "In Ihrem Warenkorb liegen noch 3 Artikel"
    text = first.get_body(("plain",)).get_content()
    assert f"2 \u00d7 {PRODUCTS[1].name}: 40,00\xa0€" in text
    assert "60,00\xa0€" in text
    assert "https://shop.example/cart/tok-eva" in text

    assert tick(tenant, MONDAY + timedelta(hours=24)) == 1  # Tuesday 11:00 in Berlin
    buy(tenant, cart, MONDAY + timedelta(hours=30))
    assert tick(tenant, MONDAY + timedelta(hours=72)) == 0  # nothing after the purchase
    assert len(smtp.to("eva@example.de")) == 2
    flow = RecoveryFlow.objects.get()
    assert (flow.status, flow.recovered_step) == ("recovered", 1)  # the second reminder
    assert flow.recovered_minor == 6000 + 499  # the order's total with shipping, in cents


def test_a_reminder_due_at_night_in_tokyo_arrives_at_nine_in_the_morning(tenant, smtp):
    customer(tenant, 2, "kenji@example.jp", "JP", "JA")
    night = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)  # 01:30 on Tuesday in Tokyo
    leave_cart(tenant, 2, "kenji@example.jp", JPY, "tok-kenji", Decimal("2000"), night)

    assert tick(tenant, night + timedelta(hours=1)) == 0  # 02:30 in Tokyo: queued, not sent
    message = Message.objects.get()
    assert message.due_at == datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert tick(tenant, datetime(2026, 11, 2, 23, 59, tzinfo=UTC)) == 0
    assert tick(tenant, datetime(2026, 11, 3, 0, 0, tzinfo=UTC)) == 1
    [mail] = smtp.to("kenji@example.jp")
    text = mail.get_body(("plain",)).get_content()
    assert "￥6,000" in text or "¥6,000" in text  # yen have no minor units


def test_unsubscribing_after_a_reminder_ends_the_flow_with_the_reason(tenant, smtp):
    eva = customer(tenant, 1, "eva@example.de", "DE", "DE")
    leave_cart(tenant, 1, "eva@example.de", EUR, "tok-eva", Decimal("20.00"), MONDAY)
    assert tick(tenant, MONDAY + timedelta(hours=1)) == 1
    withdraw_consent(eva, "marketing_email", source=Source.UNSUBSCRIBE)
    assert tick(tenant, MONDAY + timedelta(hours=100)) == 0
    flow = RecoveryFlow.objects.get()
    assert (flow.status, flow.stop_reason) == ("stopped", "no_consent")
    assert len(smtp.to("eva@example.de")) == 1


def test_a_guest_history_joining_an_account_keeps_her_flow_consent_and_messages(tenant, smtp):
    from saleor_crm_plugin.models import Delivery
    from saleor_crm_plugin.privacy.models import ConsentEntry

    guest = p.Person(5, "gina@example.de", "Gina", "Roth", "DE", "DE", False, MONDAY)
    cart = p.Cart("tok-gina", EUR, guest, [(PRODUCTS[0], 1, Decimal("20.00"))])
    body = p.body("CheckoutUpdated", MONDAY, None, checkout=p.checkout(cart, MONDAY, False))
    accept(tenant, event="checkout_updated", body=body, headers={})
    drain()
    grant_consent(
        Profile.objects.get(email="gina@example.de"),
        "marketing_email",
        source=Source.CHECKOUT,
        wording_version="v1",
    )
    assert tick(tenant, MONDAY + timedelta(hours=1)) == 1

    # Her account was opened under another address, then changed to this one: the guest's
    # history joins the account.
    registered = p.Person(9, "g.roth@example.de", "Gina", "Roth", "DE", "DE", True, MONDAY)
    body = p.body("CustomerCreated", MONDAY, None, user=p.user(registered))
    accept(tenant, event="customer_created", body=body, headers={})
    registered.email, registered.updated = "gina@example.de", MONDAY + timedelta(hours=2)
    body = p.body("CustomerUpdated", registered.updated, None, user=p.user(registered))
    accept(tenant, event="customer_updated", body=body, headers={})
    drain()
    assert not Delivery.objects.filter(state="failed").exists()
    account = Profile.objects.get(email="gina@example.de")
    assert account.user_id == p.gid("User", 9)
    assert Profile.objects.filter(email__in=["gina@example.de", "g.roth@example.de"]).count() == 1
    assert RecoveryFlow.objects.get().profile_id == account.pk
    assert ConsentEntry.objects.get().profile_id == account.pk
    assert Message.objects.get().profile_id == account.pk
    assert tick(tenant, MONDAY + timedelta(hours=24)) == 1  # the flow goes on for her account


def test_an_open_case_pauses_the_flow_until_it_is_resolved(tenant, smtp):
    eva = customer(tenant, 1, "eva@example.de", "DE", "DE")
    leave_cart(tenant, 1, "eva@example.de", EUR, "tok-eva", Decimal("20.00"), MONDAY)
    mia = Actor(kind="staff", user_id="VXNlcjoyMQ==", email="mia@shop.example")
    case = open_case(eva, CaseInput(type="question", subject="Sizes?"), mia, MONDAY)

    assert tick(tenant, MONDAY + timedelta(hours=1)) == 0
    flow = RecoveryFlow.objects.get()
    assert (flow.status, flow.step) == ("active", 1)  # the first reminder skipped, not ended
    assert Message.objects.get().reason == "open_case"
    update_case(tenant.pk, case.pk, mia, MONDAY + timedelta(hours=3), status="resolved")
    assert tick(tenant, MONDAY + timedelta(hours=24)) == 1
    assert len(smtp.to("eva@example.de")) == 1


def test_a_customer_deleted_in_saleor_leaves_no_flow_message_or_consent(tenant, smtp):
    from saleor_crm_plugin.models import Delivery, Note, ServiceCase, Tag
    from saleor_crm_plugin.privacy.models import ConsentEntry
    from saleor_crm_plugin.service.notes import add_note, change_tags

    eva = customer(tenant, 1, "eva@example.de", "DE", "DE")
    leave_cart(tenant, 1, "eva@example.de", EUR, "tok-eva", Decimal("20.00"), MONDAY)
    assert tick(tenant, MONDAY + timedelta(hours=1)) == 1
    mia = Actor(kind="staff", user_id="VXNlcjoyMQ==", email="mia@shop.example")
    add_note(eva, "Eva Kern prefers e-mail.", mia, MONDAY)
    change_tags(eva, mia, MONDAY, add=["vip"])
    open_case(eva, CaseInput(type="other", subject="Eva's question"), mia, MONDAY)
    who = p.Person(1, "eva@example.de", "Eva", "Kern", "DE", "DE", True, MONDAY)
    body = p.body("CustomerDeleted", MONDAY + timedelta(hours=2), None, user=p.user(who))
    accept(tenant, event="customer_deleted", body=body, headers={})
    drain()
    assert not Delivery.objects.filter(state="failed").exists()
    assert not Profile.objects.filter(email="eva@example.de").exists()
    assert (RecoveryFlow.objects.count(), Message.objects.count()) == (0, 0)
    assert ConsentEntry.objects.count() == 0
    assert (Note.objects.count(), Tag.objects.count(), ServiceCase.objects.count()) == (0, 0, 0)

"""The plugin door produces the app door's canonical events and never fails Saleor."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.inbox.saleor_payloads import parse_delivery
from saleor_crm_plugin.inbox.services import drain
from saleor_crm_plugin.models import Delivery, Profile
from saleor_crm_plugin.plugin.door import record_hook
from saleor_crm_plugin.plugin.events import HOOKS, delivery_body
from saleor_crm_plugin.tenants import store_settings as config
from tests import recordings
from tests.dbfaults import table_locked
from tests.plugin.saleor_shaped import order_from_recording, user_from_recording

EUR = config.parse([{"name": "base_currency", "value": "EUR"}])


def canonical(event: str, body: bytes):
    (parsed,) = parse_delivery(event, body)
    return parsed


@pytest.mark.parametrize("seq", [10, 16, 60, 131, 89])  # EUR, EUR refunded, KWD x2, USD refunded
def test_an_order_from_the_plugin_is_the_order_from_the_webhook(seq):
    recorded = recordings.delivery(seq)
    from_webhook = canonical(recorded.event, recorded.body)
    event, body = delivery_body(recorded.event, order_from_recording(recorded.body))
    from_plugin = canonical(event, body)
    assert event == recorded.event
    assert from_plugin.kind == from_webhook.kind
    assert from_plugin.order == from_webhook.order


def test_street_and_cards_reach_the_order_alike_from_both_doors():
    """The fields our order query adds to the recording: both doors give the same keys."""
    import json

    recorded = recordings.delivery(10)
    body = json.loads(recorded.body)
    order = body["order"]
    order["shippingAddress"]["streetAddress1"] = "Hauptstraße 5"
    order["transactions"][0]["paymentMethodDetails"] = {
        "__typename": "CardPaymentMethodDetails", "brand": "visa", "firstDigits": "4242",
        "lastDigits": "4242", "expMonth": 3, "expYear": 2030,
    }  # fmt: skip
    order["payments"] = [
        {"gateway": "mirumee.payments.dummy", "creditCard": {
            "brand": "mastercard", "firstDigits": "5555", "lastDigits": "4444", "expMonth": 12,
            "expYear": 2029}},
    ]  # fmt: skip
    raw = json.dumps(body).encode()
    from_webhook = canonical(recorded.event, raw).order
    event, plugin_body = delivery_body(recorded.event, order_from_recording(raw))
    from_plugin = canonical(event, plugin_body).order
    assert from_plugin == from_webhook
    assert len(from_webhook.address_key) == 64 and len(from_webhook.payment_keys) == 2


def test_a_customer_from_the_plugin_is_the_customer_from_the_webhook():
    recorded = recordings.delivery(2)  # anna adds a German address
    event, body = delivery_body("customer_updated", user_from_recording(recorded.body))
    assert canonical(event, body).customer == canonical(recorded.event, recorded.body).customer


def test_every_hook_of_the_issue_is_handled():
    expected = {
        "order_created",
        "order_confirmed",
        "order_paid",
        "order_fully_paid",
        "order_updated",
        "order_cancelled",
        "order_refunded",
        "order_fully_refunded",
        "order_fulfilled",
        "checkout_created",
        "checkout_updated",
        "checkout_fully_paid",
        "customer_created",
        "customer_updated",
        "customer_deleted",
        "account_deleted",
    }
    assert set(HOOKS) == expected


@pytest.fixture
def spool():
    from saleor_crm_plugin.plugin.spool import spool

    spool.clear()
    yield spool
    spool.clear()


@pytest.mark.django_db(transaction=True)
def test_a_hook_call_lands_in_the_inbox_and_fills_the_profile(rates):
    order = order_from_recording(recordings.delivery(10).body)
    assert record_hook("order_created", order, EUR) is True
    assert record_hook("order_created", order, EUR) is True  # Saleor calling twice
    delivery = Delivery.objects.get()  # the same state is stored once
    assert (delivery.source, delivery.event) == ("plugin", "order_created")
    drain()
    anna = Profile.objects.get(email="anna.mueller@example.de")
    assert (anna.orders_count, anna.spent_gross_minor, anna.country) == (1, 10381, "DE")


@pytest.mark.django_db(transaction=True)
def test_a_hook_never_raises_into_saleor(rates, spool):
    assert record_hook("order_created", object(), EUR) is False  # not an order at all
    assert Delivery.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_locked_inbox_costs_one_short_wait_and_loses_nothing(rates, settings, spool):
    import time

    settings.CRM_PLUGIN_HOOK_TIMEOUT_MS = 200
    order = order_from_recording(recordings.delivery(10).body)
    user = user_from_recording(recordings.delivery(2).body)
    record_hook("order_updated", order, EUR)  # creates the tenant
    with table_locked():
        started = time.monotonic()
        assert record_hook("order_created", order, EUR) is False
        first = time.monotonic() - started
        started = time.monotonic()
        assert record_hook("customer_updated", user, EUR) is False  # the outage is known
        second = time.monotonic() - started
        assert len(spool) == 2
    assert 0.2 <= first < 2.0, first  # gave up after its bound, not when the lock went
    assert second < 0.15, second  # did not wait again
    assert spool.flush(timeout=30)
    assert Delivery.objects.filter(event__in=["order_created", "customer_updated"]).count() == 2
    assert not spool.database_failing
    assert record_hook("order_created", order, EUR) is True  # stored in the request again
    assert Delivery.objects.filter(event="order_created").count() == 1  # no copy


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_crms_own_code_is_retried_after_the_request(rates, spool, monkeypatch):
    from saleor_crm_plugin.plugin import door

    order = order_from_recording(recordings.delivery(10).body)
    broken = True

    def delivery_body_failing_for_now(hook, obj):
        if broken:
            raise RuntimeError("a bug in the CRM")
        return delivery_body(hook, obj)

    monkeypatch.setattr(door, "delivery_body", delivery_body_failing_for_now)
    assert record_hook("order_created", order, EUR) is False  # no exception into Saleor
    assert Delivery.objects.count() == 0 and len(spool) == 1
    assert not spool.database_failing  # later hooks still try in the request
    broken = False
    assert spool.flush(timeout=30)
    drain()
    assert Profile.objects.get(email="anna.mueller@example.de").orders_count == 1


def _inbox_inserts(queries) -> int:
    return sum(q["sql"].lstrip().startswith("INSERT INTO crm_inbox_delivery") for q in queries)


@pytest.mark.django_db(transaction=True)
def test_a_requests_hooks_are_stored_together_with_one_insert_when_it_ends(rates, spool):
    from django.core.signals import request_finished, request_started
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = order_from_recording(recordings.delivery(10).body)
    user = user_from_recording(recordings.delivery(2).body)
    request_started.send(sender=None)
    with CaptureQueriesContext(connection) as during:
        for hook in ("order_created", "order_confirmed", "order_updated", "order_created"):
            assert record_hook(hook, order, EUR) is True
        assert record_hook("customer_updated", user, EUR) is True
    assert Delivery.objects.count() == 0  # nothing waits on the database in the hooks
    assert _inbox_inserts(during.captured_queries) == 0
    with CaptureQueriesContext(connection) as at_end:
        request_finished.send(sender=None)
    assert _inbox_inserts(at_end.captured_queries) == 1
    assert sorted(Delivery.objects.values_list("event", flat=True)) == [
        "customer_updated",
        "order_confirmed",
        "order_created",  # Saleor's second call with the same state is stored once
        "order_updated",
    ]
    drain()
    assert Profile.objects.get(email="anna.mueller@example.de").orders_count == 1
    assert record_hook("order_paid", order, EUR) is True  # outside a request: stored at once
    assert Delivery.objects.filter(event="order_paid").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_keeps_what_saleor_committed_and_nothing_it_rolled_back(rates, spool):
    from django.core.signals import request_finished, request_started
    from django.db import transaction

    order = order_from_recording(recordings.delivery(10).body)
    user = user_from_recording(recordings.delivery(2).body)
    request_started.send(sender=None)
    record_hook("order_created", order, EUR)  # after Saleor's commit, as Saleor calls it
    with transaction.atomic():
        record_hook("order_paid", order, EUR)  # inside a transaction that commits
    with pytest.raises(RuntimeError), transaction.atomic():
        record_hook("customer_updated", user, EUR)
        raise RuntimeError("Saleor's mutation failed: its transaction rolls back")
    # The request fails afterwards: Django still ends it (a 500), and the batch is stored.
    request_finished.send(sender=None)
    assert sorted(Delivery.objects.values_list("event", flat=True)) == [
        "order_created",
        "order_paid",
    ]
    assert len(spool) == 0


@pytest.mark.django_db(transaction=True)
def test_a_locked_inbox_at_a_requests_end_costs_one_short_wait_and_loses_nothing(
    rates, settings, spool
):
    import time

    from django.core.signals import request_finished, request_started

    settings.CRM_PLUGIN_HOOK_TIMEOUT_MS = 200
    order = order_from_recording(recordings.delivery(10).body)
    user = user_from_recording(recordings.delivery(2).body)
    record_hook("order_updated", order, EUR)  # creates the tenant
    request_started.send(sender=None)
    record_hook("order_created", order, EUR)
    record_hook("customer_updated", user, EUR)
    with table_locked():
        started = time.monotonic()
        request_finished.send(sender=None)
        waited = time.monotonic() - started
        assert spool.hooks() == ["order_created", "customer_updated"]
        request_started.send(sender=None)
        record_hook("order_paid", order, EUR)
        started = time.monotonic()
        request_finished.send(sender=None)  # the outage is known: no second wait
        again = time.monotonic() - started
    assert 0.2 <= waited < 2.0, waited
    assert again < 0.15, again
    assert spool.flush(timeout=30)
    assert sorted(Delivery.objects.values_list("event", flat=True)) == [
        "customer_updated",
        "order_created",
        "order_paid",
        "order_updated",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_channel_switched_off_is_not_recorded_but_its_customers_are(rates):
    settings = config.parse(
        [
            {"name": "base_currency", "value": "EUR"},
            {"name": "channel_settings", "value": '{"channel-eur": {"enabled": false}}'},
        ]
    )
    euro_order = order_from_recording(recordings.delivery(10).body)  # channel-eur
    kwd_order = order_from_recording(recordings.delivery(60).body)  # channel-kwd
    assert record_hook("order_created", euro_order, settings) is False
    assert record_hook("order_created", kwd_order, settings) is True
    user = user_from_recording(recordings.delivery(2).body)
    assert record_hook("customer_updated", user, settings) is True
    assert sorted(Delivery.objects.values_list("event", flat=True)) == [
        "customer_updated",
        "order_created",
    ]


@pytest.mark.django_db
def test_saved_settings_are_kept_on_the_store_for_tasks():
    from saleor_crm_plugin.plugin.door import remember_settings
    from saleor_crm_plugin.tenants.services import plugin_tenant

    items = [
        {"name": "base_currency", "value": "EUR"},
        {"name": "recovery_delays_hours", "value": "2,48"},
        {"name": "channel_settings", "value": '{"channel-jpy": {"recovery_delays_hours": "3,30"}}'},
    ]
    remember_settings(items)
    kept = config.parse(plugin_tenant("EUR").settings)
    assert kept.recovery_delays_hours == (2, 48)
    assert kept.for_channel("channel-jpy").recovery_delays_hours == (3, 30)
    before = plugin_tenant("EUR").updated_at
    remember_settings(items)  # saved again unchanged: nothing written
    assert plugin_tenant("EUR").updated_at == before


@pytest.mark.django_db
def test_keeping_settings_never_fails_the_merchants_save():
    from saleor_crm_plugin.models import Tenant
    from saleor_crm_plugin.plugin.door import remember_settings

    remember_settings([{"name": "base_currency", "value": "NOPE"}])  # logged, not raised
    assert not Tenant.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_stripe_events_reach_the_plugin_tenant_through_the_plugin_webhook(settings, rf):
    from saleor_crm_plugin.plugin.door import stripe_webhook
    from tests.stripe_api import SECRET, charge, event, signature

    settings.CRM_STRIPE_WEBHOOK_SECRET = SECRET
    body = event("charge.refunded", charge("pi_plugin", amount=500, refunded=100))

    def call(header: str):
        request = rf.post(
            "/plugins/saleor.crm/stripe/webhooks",
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": header},
        )
        return stripe_webhook(request, EUR)

    assert call(signature(body, secret="whsec_forged")).status_code == 400
    assert Delivery.objects.count() == 0
    assert call(signature(body)).status_code == 200
    stored = Delivery.objects.get()
    assert (stored.source, stored.tenant.saleor_api_url) == ("stripe", "plugin://saleor/")


@pytest.mark.django_db(transaction=True)
def test_a_message_link_under_the_plugin_route_unsubscribes(settings, rf):
    """Inside Saleor, the links in our e-mails point at the plugin's route; opening one shows
    the confirmation page (changing nothing) and the one-click POST unsubscribes."""
    from saleor_crm_plugin.messaging import services
    from saleor_crm_plugin.messaging.models import Purpose
    from saleor_crm_plugin.plugin.door import public_page
    from saleor_crm_plugin.privacy.models import Source
    from saleor_crm_plugin.privacy.services import grant_consent, has_consent
    from saleor_crm_plugin.tenants.services import plugin_tenant
    from tests.messaging.conftest import make_profile

    settings.CRM_PUBLIC_URL = "https://shop.example/plugins/saleor.crm"
    profile = make_profile(plugin_tenant("EUR"))
    grant_consent(profile, "marketing_email", source=Source.CHECKOUT, wording_version="v1")
    message = services.enqueue_one(
        profile, "welcome", purpose=Purpose.MARKETING, dedupe_key="welcome:1"
    )
    link = services.unsubscribe_url(message)
    assert link.startswith("https://shop.example/plugins/saleor.crm/unsubscribe/")
    path = link.removeprefix("https://shop.example/plugins/saleor.crm/")

    shown = public_page(rf.get("/plugins/saleor.crm/" + path), path)
    assert shown.status_code == 200 and has_consent(profile, "marketing_email")
    done = public_page(
        rf.post("/plugins/saleor.crm/" + path, data={"List-Unsubscribe": "One-Click"}), path
    )
    assert done.status_code == 200
    assert not has_consent(profile, "marketing_email")
    # Saleor's own plugin URLs and the app-only endpoints are not ours to answer here.
    assert public_page(rf.post("/plugins/saleor.crm/api/register"), "api/register") is None
    assert public_page(rf.get("/plugins/saleor.crm/nothing"), "nothing") is None

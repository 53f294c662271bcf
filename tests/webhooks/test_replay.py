"""Every recorded Saleor delivery, replayed byte for byte through the real HTTP endpoint."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from django.db import connection

from saleor_crm_plugin.models import Delivery, OrderRecord, Profile, TimelineEntry
from tests import recordings
from tests.dbreset import dump, load

pytestmark = pytest.mark.django_db(transaction=True)


def post(live_server, recorded: recordings.Recorded) -> requests.Response:
    return requests.post(
        f"{live_server.url}/api/webhooks",
        data=recorded.body,
        headers=recordings.request_headers(recorded),
        timeout=10,
    )


def replay(live_server) -> list[int]:
    return [post(live_server, d).status_code for d in recordings.deliveries()]


# The database as the first replay in this run left it, and the answers it got.
REPLAYED: dict[str, object] = {}


@pytest.fixture
def replayed(live_server, tenant, rates) -> list[int]:
    """The recorded store replayed through the endpoint. The first test replays it for real;
    the tests after it, which only read what it wrote, get those same rows back (a binary COPY
    of every table) instead of 133 more requests each."""
    if REPLAYED:
        load(connection, REPLAYED["tables"])  # type: ignore[arg-type]
        return REPLAYED["statuses"]  # type: ignore[return-value]
    statuses = replay(live_server)
    REPLAYED.update(statuses=statuses, tables=dump(connection))
    return statuses


@pytest.fixture
def replayed_now(live_server, tenant, rates) -> list[int]:
    """Replayed for real, for a test that goes on sending to the endpoint."""
    return replay(live_server)


def profile(email: str) -> Profile:
    return Profile.objects.get(email=email)


def test_every_recorded_delivery_is_accepted_and_kept(replayed):
    assert replayed == [200] * 133
    assert Delivery.objects.count() == 133
    states = {
        s: Delivery.objects.filter(state=s).count()
        for s in ("processed", "ignored", "failed", "pending")
    }
    assert states == {"processed": 129, "ignored": 3, "failed": 1, "pending": 0}


def test_staff_deletion_without_user_is_kept_with_the_reason(replayed):
    failed = Delivery.objects.get(state="failed")
    assert failed.event == "customer_deleted"
    assert failed.error_code == "missing_customer"
    assert "privateMetadata" in failed.error_message
    assert bytes(failed.body) == recordings.delivery(115).body


def test_registered_customer_spend_refund_language_and_country(replayed):
    anna = profile("anna.mueller@example.de")
    assert anna.user_id == "VXNlcjo0Ng=="
    assert anna.orders_count == 2
    assert anna.spent_gross_minor == 19660  # 103.81 + 92.79 EUR
    assert anna.refunded_minor == 551
    assert anna.refund_rate == Decimal("0.0280")
    assert anna.average_order_minor == 9830
    assert anna.totals_by_currency == {
        "EUR": {"orders": 2, "gross_minor": 19660, "net_minor": 19660, "refunded_minor": 551}
    }
    # Staff switched her language to English after her orders (scenario g).
    assert (anna.language, anna.country, anna.time_zone) == ("en", "DE", "Europe/Berlin")
    assert anna.phone == "+493012345678"  # her billing address's, for SMS and WhatsApp
    assert anna.channels == ["channel-eur"]
    assert anna.categories == ["juices", "t-shirts"]
    assert anna.payment_methods == ["Recorder Pay"]


def test_spend_in_base_currency_uses_the_rate_at_order_time(replayed):
    yuki = profile("yuki.tanaka@example.jp")
    assert yuki.totals_by_currency["JPY"]["gross_minor"] == 15598
    assert yuki.spent_gross_minor == 9749  # 15598 JPY / 160 JPY per EUR = 97.4875 -> 97.49 EUR
    fahad = profile("fahad@example.kw")
    assert fahad.user_id is None
    assert fahad.orders_count == 2
    assert fahad.totals_by_currency["KWD"]["gross_minor"] == 91595  # 85.390 + 6.205 KWD
    assert fahad.spent_gross_minor == 28623  # 91.595 / 0.32 = 286.234 EUR
    assert (fahad.language, fahad.country, fahad.time_zone) == ("ar", "KW", "Asia/Kuwait")
    rates = set(OrderRecord.objects.filter(currency="KWD").values_list("fx_rate", flat=True))
    assert rates == {Decimal("3.125")}


def test_refunds_and_cancellations(replayed):
    refunded = profile("refund.me@example.com")
    assert (refunded.orders_count, refunded.spent_gross_minor, refunded.refunded_minor) == (
        1,
        3810,
        3810,
    )
    assert refunded.refund_rate == Decimal("1")
    cancelled = profile("cancel.me@example.com")
    assert (
        cancelled.orders_count,
        cancelled.cancelled_orders_count,
        cancelled.spent_gross_minor,
    ) == (0, 1, 0)
    kinds = set(cancelled.timeline.values_list("kind", flat=True))
    assert {"crm.order.placed", "crm.order.cancelled"} <= kinds


def test_deleted_customers_are_gone_with_their_guest_history(replayed):
    for email in (
        "jan.kowalski@example.pl",  # registered after a guest checkout, deleted by staff
        "piotr.nowak@example.pl",  # deleted by staff
        "erase.me@example.com",  # deleted own account; Saleor sent no user, the principal says who
    ):
        assert not Profile.objects.filter(email=email).exists(), email
    jan_order = OrderRecord.objects.get(number="22")
    assert (jan_order.profile_id, jan_order.email) == (None, "")
    assert jan_order.total_gross_minor == 22866  # the store's figures keep the amount


def test_guests_and_abandoned_checkouts_have_profiles(replayed):
    maria = profile("maria.rossi@example.it")
    assert maria.user_id is None
    assert maria.orders_count == 0
    assert maria.checkouts.count() == 2
    claire = profile("claire.dupont@example.fr")
    assert (claire.language, claire.country, claire.orders_count) == ("fr", "FR", 0)


def test_timeline_shows_the_order_story(replayed):
    anna = profile("anna.mueller@example.de")
    kinds = list(anna.timeline.order_by("occurred_at", "id").values_list("kind", flat=True))
    for expected in (
        "crm.customer.registered",
        "crm.customer.updated",
        "crm.checkout.started",
        "crm.checkout.paid",
        "crm.order.placed",
        "crm.order.paid",
        "crm.order.refunded",
        "crm.order.fulfilled",
    ):
        assert expected in kinds
    assert kinds.count("crm.order.placed") == 2


def test_replaying_everything_again_changes_nothing(live_server, replayed_now):
    before = list(Profile.objects.order_by("id").values())
    timeline = TimelineEntry.objects.count()
    again = [post(live_server, d) for d in recordings.deliveries()]
    assert {r.status_code for r in again} == {200}
    assert all(r.json()["duplicate"] for r in again)
    assert Delivery.objects.count() == 133
    after = list(Profile.objects.order_by("id").values())
    for row in before + after:
        row.pop("updated_at")
    assert after == before
    assert TimelineEntry.objects.count() == timeline

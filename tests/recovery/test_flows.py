"""Abandoned-cart flows through the real inbox: carts and orders arrive as Saleor sends them.

The sender here records what it is handed (the messaging capability sends e-mail); the clock
is passed in, so "an hour later" is exact.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.demo.catalogue import CHANNELS, PRODUCTS
from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.models import Profile, RecoveryFlow, TimelineEntry
from saleor_crm_plugin.recovery.services import (
    DueStep,
    Outcome,
    Schedule,
    run_due_steps,
    start_flows,
)

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
EUR = next(c for c in CHANNELS if c.slug == "channel-eur")
JPY = next(c for c in CHANNELS if c.slug == "channel-jpy")
SCHEDULE = Schedule(default=(1, 24, 72))


class Sender:
    """Stands in for the messaging capability: records each step it is handed."""

    def __init__(self, outcome: Outcome = ("sent", "", "")) -> None:
        self.outcome = outcome
        self.handed: list[DueStep] = []
        self.lock = threading.Lock()

    def __call__(self, step: DueStep) -> Outcome:
        with self.lock:
            self.handed.append(step)
        return self.outcome

    @property
    def steps(self) -> list[tuple[int, int]]:
        return [(s.profile_id, s.step) for s in self.handed]


def person(pk: int, email: str, country: str = "DE") -> p.Person:
    return p.Person(pk, email, "Eva", "Kern", "DE", country, registered=True, joined=T0)


def cart(who: p.Person, token: str, channel=EUR, lines: int = 2) -> p.Cart:
    chosen = PRODUCTS[:lines]
    return p.Cart(token, channel, who, [(x, 1, Decimal("20.00")) for x in chosen], created=T0)


def send_checkout(tenant, c: p.Cart, at: datetime) -> None:
    body = p.body("CheckoutUpdated", at, p.principal(c.person), checkout=p.checkout(c, at, True))
    accept(tenant, event="checkout_updated", body=body, headers={})
    drain()


def send_order(tenant, c: p.Cart, at: datetime, number: int = 1) -> None:
    state = p.OrderState(f"00000000-0000-4000-8000-{number:012d}", number, c, created=at)
    body = p.body("OrderCreated", at, p.principal(c.person), order=p.order(state))
    accept(tenant, event="order_created", body=body, headers={})
    drain()


def flow_of(email: str) -> RecoveryFlow:
    return RecoveryFlow.objects.get(profile__email=email)


def test_an_abandoned_cart_gets_each_reminder_once_at_its_hour(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    sender = Sender()

    assert start_flows(tenant, SCHEDULE, T0 + timedelta(minutes=59)) == 0
    assert start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1)) == 1
    profile = Profile.objects.get(email="eva@example.de")
    for hours, expected in ((1, 1), (23, 1), (24, 2), (71, 2), (72, 3), (500, 3)):
        run_due_steps(tenant, sender, T0 + timedelta(hours=hours))
        assert len(sender.handed) == expected, hours
    assert sender.steps == [(profile.pk, 0), (profile.pk, 1), (profile.pk, 2)]
    assert [s.last for s in sender.handed] == [False, False, True]
    first = sender.handed[0]
    assert (first.currency, first.total_gross_minor, len(first.lines)) == ("EUR", 4499, 2)
    assert flow_of("eva@example.de").status == "finished"
    # The same cart never starts a second flow.
    assert start_flows(tenant, SCHEDULE, T0 + timedelta(hours=80)) == 0
    kinds = TimelineEntry.objects.filter(profile=profile).values_list("kind", flat=True)
    assert "crm.recovery.started" in kinds


def test_one_customer_with_carts_on_two_devices_gets_one_flow_for_the_newest(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "phone", lines=1), T0)
    send_checkout(tenant, cart(eva, "laptop", lines=3), T0 + timedelta(minutes=10))
    sender = Sender()
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=2))
    run_due_steps(tenant, sender, T0 + timedelta(hours=2))
    assert RecoveryFlow.objects.count() == 1
    assert [
        (s.checkout_id.endswith(p.gid("Checkout", "laptop")[-8:]), len(s.lines))
        for s in sender.handed
    ] == [(True, 3)]


def test_an_order_after_a_reminder_is_recovered_revenue_and_ends_the_flow(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    sender = Sender()
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    run_due_steps(tenant, sender, T0 + timedelta(hours=1))
    # She buys on another device, with another cart, 5 hours later.
    send_order(tenant, cart(eva, "c-2", lines=1), T0 + timedelta(hours=6))
    run_due_steps(tenant, sender, T0 + timedelta(hours=100))
    assert len(sender.handed) == 1  # nothing after the purchase
    flow = flow_of("eva@example.de")
    assert (flow.status, flow.recovered_step, flow.recovered_minor) == ("recovered", 0, 2499)
    assert flow.recovered_base_minor == 2499


def test_an_order_before_any_reminder_stops_the_flow_without_credit(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    send_order(tenant, cart(eva, "c-1"), T0 + timedelta(minutes=61))
    sender = Sender()
    run_due_steps(tenant, sender, T0 + timedelta(hours=2))
    flow = flow_of("eva@example.de")
    assert (sender.handed, flow.status, flow.stop_reason) == ([], "stopped", "ordered")
    assert flow.recovered_order_id is None


def test_an_order_outside_the_attribution_window_is_not_credited(tenant, settings):
    settings.CRM_RECOVERY_ATTRIBUTION_DAYS = 2
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    for hours in (1, 24, 72):
        run_due_steps(tenant, Sender(), T0 + timedelta(hours=hours))
    send_order(tenant, cart(eva, "c-2"), T0 + timedelta(hours=72 + 49))
    assert flow_of("eva@example.de").status == "finished"


def test_a_reminder_still_waiting_to_go_out_earns_no_credit(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    run_due_steps(tenant, Sender(("queued", "", "")), T0 + timedelta(hours=1))
    send_order(tenant, cart(eva, "c-2"), T0 + timedelta(hours=3))  # reminder still waiting
    assert flow_of("eva@example.de").stop_reason == "ordered"


def test_an_emptied_cart_ends_the_flow(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    send_checkout(tenant, cart(eva, "c-1", lines=0), T0 + timedelta(hours=2))
    sender = Sender()
    run_due_steps(tenant, sender, T0 + timedelta(hours=100))
    flow = flow_of("eva@example.de")
    assert (sender.handed, flow.status, flow.stop_reason) == ([], "stopped", "emptied")


def test_a_changed_cart_moves_the_next_reminder_and_the_snapshot(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1", lines=1), T0)
    sender = Sender()
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    run_due_steps(tenant, sender, T0 + timedelta(hours=1))
    send_checkout(tenant, cart(eva, "c-1", lines=3), T0 + timedelta(hours=20))
    run_due_steps(tenant, sender, T0 + timedelta(hours=24))
    assert len(sender.handed) == 1  # 24 h after the change, not after the first visit
    run_due_steps(tenant, sender, T0 + timedelta(hours=44))
    assert [len(s.lines) for s in sender.handed] == [1, 3]


def test_channel_schedules_and_switched_off_channels(tenant):
    eva, kenji = person(1, "eva@example.de"), person(2, "kenji@example.jp", "JP")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    send_checkout(tenant, cart(kenji, "c-2", channel=JPY), T0)
    schedule = Schedule(default=(1, 24), channels={"channel-jpy": (3, 48)})
    start_flows(tenant, schedule, T0 + timedelta(hours=2))
    assert list(RecoveryFlow.objects.values_list("profile__email", flat=True)) == ["eva@example.de"]
    start_flows(tenant, schedule, T0 + timedelta(hours=3))
    assert flow_of("kenji@example.jp").delays_hours == [3, 48]

    off = Schedule(default=(1, 24), disabled=frozenset({"channel-eur"}))
    olga = person(3, "olga@example.de")
    send_checkout(tenant, cart(olga, "c-3"), T0)
    start_flows(tenant, off, T0 + timedelta(hours=5))
    assert not RecoveryFlow.objects.filter(profile__email="olga@example.de").exists()


def test_a_paid_or_completed_cart_is_not_abandoned(tenant):
    eva = person(1, "eva@example.de")
    c = cart(eva, "c-1")
    send_checkout(tenant, c, T0)
    send_order(tenant, c, T0 + timedelta(minutes=5))
    assert start_flows(tenant, SCHEDULE, T0 + timedelta(hours=2)) == 0


def test_a_refused_reminder_ends_the_flow_with_the_reason(tenant):
    eva = person(1, "eva@example.de")
    send_checkout(tenant, cart(eva, "c-1"), T0)
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    sender = Sender(("skipped", "no_consent", ""))
    run_due_steps(tenant, sender, T0 + timedelta(hours=100))
    flow = flow_of("eva@example.de")
    assert (len(sender.handed), flow.status, flow.stop_reason) == (1, "stopped", "no_consent")


def test_parallel_runs_hand_each_step_over_once(tenant):
    for i in range(20):
        who = person(i + 1, f"c{i}@example.de")
        send_checkout(tenant, cart(who, f"c-{i}"), T0)
    start_flows(tenant, SCHEDULE, T0 + timedelta(hours=1))
    sender = Sender()
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            run_due_steps(tenant, sender, T0 + timedelta(hours=1), limit=3)
            run_due_steps(tenant, sender, T0 + timedelta(hours=1))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sender.steps) == sorted({(s.profile_id, 0) for s in sender.handed})
    assert len(sender.handed) == 20


# Browse reminders: storefront views arrive through tracking, relative to the real clock
# (tracking accepts events of the last seven days only).


def view(tenant, who: p.Person, *products, minutes_ago: int) -> None:
    from django.utils import timezone

    from saleor_crm_plugin.tracking.services import TrackInput, record_events

    at = timezone.now() - timedelta(minutes=minutes_ago)
    record_events(
        tenant,
        f"visitor-{who.pk:04d}",
        [
            TrackInput(
                f"view-{who.pk}-{x.pk}-{minutes_ago}",
                "product_viewed",
                at,
                p.gid("Product", x.pk),
                channel="channel-eur",
            )
            for x in products
        ],
        consent=True,
        user_id=p.gid("User", who.pk),
        email=who.email,
    )


@pytest.fixture
def known(tenant):
    """Eva bought a month ago, so the CRM knows her and the products' names."""
    from django.utils import timezone

    eva = person(1, "eva@example.de")
    send_order(tenant, cart(eva, "old", lines=4), timezone.now() - timedelta(days=30), 900)
    return eva


def browse_steps(tenant, when) -> list[DueStep]:
    sender = Sender()
    run_due_steps(tenant, sender, when)
    return [s for s in sender.handed if s.kind == "browse"]


def test_a_customer_who_viewed_and_left_gets_one_browse_reminder(tenant, known):
    from django.utils import timezone

    from saleor_crm_plugin.catalogue.services import names
    from saleor_crm_plugin.recovery.services import start_browse_flows

    view(tenant, known, PRODUCTS[0], minutes_ago=200)
    view(tenant, known, PRODUCTS[1], PRODUCTS[0], minutes_ago=150)
    now = timezone.now()
    assert start_browse_flows(tenant, now=now) == 1
    (step,) = browse_steps(tenant, now)
    ids = [p.gid("Product", PRODUCTS[0].pk), p.gid("Product", PRODUCTS[1].pk)]
    assert step.lines == ids  # newest view first, each product once
    assert list(names(tenant.pk, step.lines).values()) == [PRODUCTS[0].name, PRODUCTS[1].name]
    assert step.last and flow_of("eva@example.de").status == "finished"
    # More views later the same month: no second reminder.
    view(tenant, known, PRODUCTS[2], minutes_ago=130)
    assert start_browse_flows(tenant, now=now + timedelta(hours=3)) == 0


def test_no_browse_reminder_while_browsing_or_after_a_cart_or_an_order(tenant, known):
    from django.utils import timezone

    from saleor_crm_plugin.recovery.services import start_browse_flows

    view(tenant, known, PRODUCTS[0], minutes_ago=30)
    assert start_browse_flows(tenant, now=timezone.now()) == 0  # still looking around
    view(tenant, known, PRODUCTS[0], minutes_ago=300)
    send_checkout(tenant, cart(known, "new"), timezone.now() - timedelta(minutes=200))
    assert start_browse_flows(tenant, now=timezone.now() + timedelta(hours=3)) == 0

    olga = person(2, "olga@example.de")
    send_order(tenant, cart(olga, "o-1"), timezone.now() - timedelta(days=20), 901)
    view(tenant, olga, PRODUCTS[1], minutes_ago=300)
    send_order(tenant, cart(olga, "o-2"), timezone.now() - timedelta(minutes=250), 902)
    assert start_browse_flows(tenant, now=timezone.now() + timedelta(hours=3)) == 0


def test_a_cart_takes_over_a_waiting_browse_reminder(tenant, known, settings):
    from django.utils import timezone

    from saleor_crm_plugin.recovery.services import start_browse_flows

    view(tenant, known, PRODUCTS[0], minutes_ago=200)
    now = timezone.now()
    start_browse_flows(tenant, now=now)
    send_checkout(tenant, cart(known, "cart-after"), now + timedelta(minutes=1))
    start_flows(tenant, SCHEDULE, now + timedelta(hours=1, minutes=1))
    flow = flow_of("eva@example.de")
    assert (flow.kind, flow.step, flow.delays_hours) == ("checkout", 0, [1, 24, 72])
    sender = Sender()
    run_due_steps(tenant, sender, now + timedelta(hours=1, minutes=2))
    assert [s.kind for s in sender.handed] == ["checkout"]


def test_anonymous_visitors_get_no_reminder(tenant):
    from django.utils import timezone

    from saleor_crm_plugin.recovery.services import start_browse_flows
    from saleor_crm_plugin.tracking.services import TrackInput, record_events

    at = timezone.now() - timedelta(hours=4)
    record_events(
        tenant,
        "visitor-anon",
        [TrackInput("view-anon-1", "product_viewed", at, "UHJvZHVjdDox")],
        consent=True,
    )
    assert start_browse_flows(tenant, now=timezone.now()) == 0

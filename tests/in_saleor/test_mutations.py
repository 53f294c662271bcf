"""Saleor's own mutations, as shoppers, staff and payment apps call them, seen by the CRM once.

Run by hand inside a real Saleor 3.24 (see ``conftest.py``); skipped where Saleor is absent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

pytest.importorskip("saleor.plugins.manager", reason="Saleor is not installed here")

from saleor_crm_plugin.inbox.services import drain
from saleor_crm_plugin.models import Delivery, Profile
from tests.dbfaults import inserts_into, table_locked

pytestmark = [
    pytest.mark.saleor,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

CHECKOUT_COMPLETE = """
mutation complete($id: ID) {
  checkoutComplete(id: $id) { order { id number } errors { field code message } }
}
"""

ORDER_CANCEL = """
mutation cancel($id: ID!) { orderCancel(id: $id) { errors { field code message } } }
"""

REFUND_REPORTED = """
mutation report($id: ID, $amount: PositiveDecimal!) {
  transactionEventReport(id: $id, type: REFUND_SUCCESS, amount: $amount, pspReference: "re_1") {
    errors { field code message }
  }
}
"""

CUSTOMER_CREATE = """
mutation create($input: UserCreateInput!) {
  customerCreate(input: $input) { user { id } errors { field code message } }
}
"""

CUSTOMER_UPDATE = """
mutation update($id: ID!, $input: CustomerInput!) {
  customerUpdate(id: $id, input: $input) { errors { field code message } }
}
"""

CUSTOMER_DELETE = """
mutation delete($id: ID!) { customerDelete(id: $id) { errors { field code message } } }
"""


def post(client, query: str, variables: dict, **kwargs) -> dict:
    from saleor.graphql.tests.utils import get_graphql_content

    data = get_graphql_content(client.post_graphql(query, variables, **kwargs))["data"]
    (result,) = data.values()
    assert not result["errors"], result["errors"]
    return result


def seen() -> Counter[str]:
    """How many deliveries of each event the CRM holds from the plugin."""
    return Counter(Delivery.objects.filter(source="plugin").values_list("event", flat=True))


@pytest.fixture
def paid_checkout(
    checkout_with_item,
    address,
    checkout_delivery,
    customer_user,
    transaction_item_generator,
    transaction_events_generator,
):
    """A shopper's checkout with an address, a delivery method and a charged card payment."""
    from django.utils import timezone
    from saleor.checkout import calculations
    from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
    from saleor.payment import TransactionEventType
    from saleor.payment.transaction_item_calculations import recalculate_transaction_amounts
    from saleor.plugins.manager import get_plugins_manager

    checkout = checkout_with_item
    checkout.shipping_address = address
    checkout.billing_address = address
    checkout.assigned_delivery = checkout_delivery(checkout)
    checkout.user = customer_user
    checkout.email = customer_user.email
    checkout.save()
    manager = get_plugins_manager(allow_replica=False)
    lines, _ = fetch_checkout_lines(checkout)
    info = fetch_checkout_info(checkout, lines, manager)
    total = calculations.calculate_checkout_total_with_gift_cards(manager, info, lines)
    payment = transaction_item_generator(checkout_id=checkout.pk, name="Stripe")
    transaction_events_generator(
        transaction=payment,
        psp_references=["pi_1"],
        types=[TransactionEventType.CHARGE_SUCCESS],
        amounts=[total.gross.amount],
    )
    recalculate_transaction_amounts(payment)
    checkout.price_expiration = timezone.now()
    checkout.save()
    return checkout


def complete(client, checkout) -> dict:
    from saleor.graphql.core.utils import to_global_id_or_none

    return post(client, CHECKOUT_COMPLETE, {"id": to_global_id_or_none(checkout)})


def test_a_completed_checkout_is_one_order_on_the_shoppers_profile(
    crm, user_api_client, paid_checkout, customer_user
):
    from saleor.order.models import Order

    complete(user_api_client, paid_checkout)
    order = Order.objects.get()
    drain()
    profile = Profile.objects.get(email=customer_user.email.lower())
    assert profile.orders_count == 1
    assert profile.spent_gross_minor == int(order.total_gross_amount * 100) > 0
    assert profile.payment_methods == ["Stripe"]
    events = seen()
    assert events["order_created"] == 1
    assert set(events.values()) == {1}, events  # no hook call was stored twice
    # What the CRM read of Saleor's order (its related rows fetched together) is Saleor's.
    body = json.loads(bytes(Delivery.objects.get(event="order_created").body))["order"]
    line = order.lines.get()
    product = line.variant.product
    assert body["lines"][0]["variant"]["sku"] == line.variant.sku
    assert body["lines"][0]["variant"]["product"]["name"] == product.name
    assert body["lines"][0]["variant"]["product"]["category"]["slug"] == product.category.slug
    assert body["user"]["email"] == customer_user.email
    assert body["shippingAddress"]["city"] == order.shipping_address.city
    assert body["billingAddress"]["country"]["code"] == order.billing_address.country.code
    assert body["channel"]["slug"] == order.channel.slug


def test_a_refund_reported_by_the_payment_app_lands_once(
    crm, app_api_client, permission_manage_payments, order_with_lines, transaction_item_generator
):
    order = order_with_lines
    payment = transaction_item_generator(
        app=app_api_client.app, order_id=order.pk, charged_value=order.total.gross.amount
    )
    import graphene

    app_api_client.app.permissions.add(permission_manage_payments)
    payment_id = graphene.Node.to_global_id("TransactionItem", payment.token)
    post(app_api_client, REFUND_REPORTED, {"id": payment_id, "amount": Decimal("5.00")})
    drain()
    profile = Profile.objects.get(email=order.user_email.lower())
    assert (profile.orders_count, profile.refunded_minor) == (1, 500)
    assert seen()["order_refunded"] == 1


def test_a_cancelled_order_stops_counting(
    crm, staff_api_client, permission_group_manage_orders, order_with_lines
):
    from saleor.graphql.core.utils import to_global_id_or_none

    permission_group_manage_orders.user_set.add(staff_api_client.user)
    order = order_with_lines
    from saleor.plugins.manager import get_plugins_manager

    get_plugins_manager(allow_replica=False).order_created(order)  # the CRM saw it placed
    drain()
    assert Profile.objects.get(email=order.user_email.lower()).orders_count == 1
    post(staff_api_client, ORDER_CANCEL, {"id": to_global_id_or_none(order)})
    drain()
    profile = Profile.objects.get(email=order.user_email.lower())
    assert (profile.orders_count, profile.cancelled_orders_count, profile.spent_gross_minor) == (
        0,
        1,
        0,
    )
    assert seen()["order_cancelled"] == 1


def test_customer_changes_by_staff_reach_the_profile_and_deletion_removes_it(
    crm, staff_api_client, permission_manage_users
):
    staff_api_client.user.user_permissions.add(permission_manage_users)
    created = post(
        staff_api_client,
        CUSTOMER_CREATE,
        {"input": {"email": "Joana@Example.pt", "firstName": "Joana", "languageCode": "PT"}},
    )
    user_id = created["user"]["id"]
    drain()
    assert Profile.objects.get(email="joana@example.pt").language == "pt"
    post(staff_api_client, CUSTOMER_UPDATE, {"id": user_id, "input": {"lastName": "Silva"}})
    drain()
    assert Profile.objects.get(email="joana@example.pt").last_name == "Silva"
    post(staff_api_client, CUSTOMER_DELETE, {"id": user_id})
    drain()
    assert not Profile.objects.filter(email="joana@example.pt").exists()
    events = seen()
    assert (events["customer_created"], events["customer_deleted"]) == (1, 1)


@contextmanager
def crm_code_raising(monkeypatch) -> Iterator[None]:
    """The CRM's own code failing on what Saleor hands the hook (a bug, a state it misreads)."""
    from saleor_crm_plugin.plugin import door
    from saleor_crm_plugin.plugin.events import delivery_body

    broken = [True]

    def failing(hook, obj):
        if broken[0]:
            raise RuntimeError("a bug in the CRM")
        return delivery_body(hook, obj)

    monkeypatch.setattr(door, "delivery_body", failing)
    try:
        yield
    finally:
        broken[0] = False


FAULTS = {
    "crm code raising": (crm_code_raising, False),
    "crm database refusing": (
        lambda _: inserts_into("crm_inbox_delivery", "RAISE EXCEPTION 'disk full'"),
        False,
    ),
    "crm database slow": (
        lambda _: inserts_into("crm_inbox_delivery", "PERFORM pg_sleep(60)"),
        True,
    ),
    "crm table locked": (lambda _: table_locked(), True),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_in_the_crm_neither_fails_nor_holds_up_a_checkout_and_loses_nothing(
    crm, user_api_client, paid_checkout, customer_user, settings, monkeypatch, caplog, fault
):
    """The shopper gets their order at once; the CRM stores the events once the fault clears.

    A slow or locked database would hold the request 60 s or forever; the hooks instead give
    up after ``CRM_PLUGIN_HOOK_TIMEOUT_MS`` (250 ms), and only the first one waits: the others
    see the outage and hand their event straight to the spool. So the CRM adds at most one
    bound to the request, and 10 s leaves room for Saleor's own work on a loaded machine.
    """
    import logging
    import time

    from saleor.order.models import Order

    from saleor_crm_plugin.plugin.spool import spool

    settings.CRM_PLUGIN_HOOK_TIMEOUT_MS = 250
    spool.clear()
    make_fault, waits = FAULTS[fault]
    caplog.set_level(logging.WARNING, logger="saleor_crm_plugin.plugin.door")
    with make_fault(monkeypatch):
        started = time.monotonic()
        complete(user_api_client, paid_checkout)
        elapsed = time.monotonic() - started
        assert Order.objects.count() == 1  # the shopper has their order
        assert "order_created" in spool.hooks()  # the fault is real: the order did not get through
    assert elapsed < 10, f"the checkout waited {elapsed:.1f} s for the CRM"
    failed_in_request = [r for r in caplog.records if "could not record" in r.getMessage()]
    if waits:
        assert len(failed_in_request) == 1  # one hook waited its bound, no other did
    assert spool.flush(timeout=60), "the held events were not stored after the fault cleared"
    events = seen()
    assert events["order_created"] == 1
    assert set(events.values()) == {1}, events  # each stored once
    drain()
    assert Profile.objects.get(email=customer_user.email.lower()).orders_count == 1
    spool.clear()


@contextmanager
def broker_down() -> Iterator[None]:
    """Saleor's Celery app pointed at a port nothing listens on."""
    import kombu.pools

    from saleor_crm_plugin.inbox.tasks import drain_inbox

    app = drain_inbox.app
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = "redis://127.0.0.1:1/0", False
    kombu.pools.reset()
    app._pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        kombu.pools.reset()
        app._pool = None


def test_with_the_broker_down_a_checkout_completes_and_nothing_is_lost(
    crm, user_api_client, paid_checkout, customer_user, settings
):
    import time

    from saleor_crm_plugin.inbox import dispatch

    settings.CRM_INBOX_DISPATCH = "celery"
    with broker_down():
        started = time.monotonic()
        complete(user_api_client, paid_checkout)
        elapsed = time.monotonic() - started
        dispatch._publisher.submit(lambda: None).result(timeout=60)  # failed publishes done
    assert elapsed < 10, "the checkout waited for the broker"
    assert Delivery.objects.filter(state="pending").exists()
    drain()  # what the periodic sweep does once the broker is back
    assert Profile.objects.get(email=customer_user.email.lower()).orders_count == 1

"""Plugin-mode backfill from Saleor's own tables, inside a real Saleor 3.24.

Run by hand (see ``conftest.py``); skipped where Saleor is absent. The SQL must build, from
Saleor's tables, the same canonical events the hooks build from Saleor's models.
"""

from __future__ import annotations

import pytest

pytest.importorskip("saleor.plugins.manager", reason="Saleor is not installed here")

from saleor_crm_plugin.backfill.services import backfill
from saleor_crm_plugin.inbox.saleor_payloads import parse_delivery
from saleor_crm_plugin.inbox.services import drain
from saleor_crm_plugin.models import CheckoutRecord, Delivery, OrderRecord, Profile
from saleor_crm_plugin.plugin.events import delivery_body
from saleor_crm_plugin.tenants.services import plugin_tenant

pytestmark = [
    pytest.mark.saleor,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


def from_hooks(hook: str, obj):
    (event,) = parse_delivery(*delivery_body(hook, obj))
    return event


def backfilled(event: str) -> list:
    rows = Delivery.objects.filter(source="backfill", event=event).order_by("id")
    return [parse_delivery(d.event, bytes(d.body))[0] for d in rows]


@pytest.fixture
def store(crm, order_with_lines, checkout_with_item, customer_user, address):
    """A Saleor with a registered customer, one of their orders and an open checkout."""
    customer_user.default_billing_address = address
    customer_user.save()
    order_with_lines.user = customer_user
    order_with_lines.save()
    checkout_with_item.email = "lena@example.de"
    checkout_with_item.save()
    return order_with_lines, checkout_with_item, customer_user


def test_the_tables_give_the_events_the_hooks_give(store):
    order, checkout, customer = store
    summary = backfill(plugin_tenant("USD"))
    assert {name: (r.fetched, r.done) for name, r in summary.resources.items()} == {
        "customers": (1, True),
        "orders": (1, True),
        "checkouts": (1, True),
    }
    (sql_order,) = backfilled("order_updated")
    assert sql_order.order == from_hooks("order_updated", order).order
    assert len(sql_order.order.lines) == order.lines.count() > 0
    (sql_customer,) = backfilled("customer_updated")
    assert sql_customer.customer == from_hooks("customer_updated", customer).customer
    (sql_checkout,) = backfilled("checkout_updated")
    assert sql_checkout.checkout == from_hooks("checkout_updated", checkout).checkout
    assert summary.applied.failed == 0


def test_it_fills_profiles_and_running_it_again_changes_nothing(store):
    order, checkout, customer = store
    tenant = plugin_tenant("USD")
    backfill(tenant)
    profile = Profile.objects.get(email=customer.email.lower())
    assert profile.orders_count == 1
    assert profile.spent_gross_minor == int(order.total_gross_amount * 100)
    assert CheckoutRecord.objects.filter(email="lena@example.de").exists()
    before = (Delivery.objects.count(), list(Profile.objects.values_list("id", "updated_at")))
    again = backfill(tenant)  # done before: nothing to read
    assert {r.fetched for r in again.resources.values()} == {0}
    restarted = backfill(tenant, restart=True)  # everything again, all of it known
    assert {r.new for r in restarted.resources.values()} == {0}
    assert (Delivery.objects.count(), list(Profile.objects.values_list("id", "updated_at"))) == (
        before
    )


def test_live_hooks_and_the_backfill_count_an_order_once(store):
    from saleor.plugins.manager import get_plugins_manager

    order, _, customer = store
    get_plugins_manager(allow_replica=False).order_created(order)
    drain()
    backfill(plugin_tenant("USD"))
    assert OrderRecord.objects.count() == 1
    assert Profile.objects.get(email=customer.email.lower()).orders_count == 1


def test_an_interrupted_backfill_resumes_after_the_last_stored_chunk(store, monkeypatch):
    from saleor.account.models import User

    from saleor_crm_plugin.backfill import saleor_tables

    User.objects.bulk_create(User(email=f"c{i}@example.com") for i in range(5))
    tenant = plugin_tenant("USD")
    calls = []

    def stop_after_two_chunks() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        saleor_tables.store_table(
            tenant, saleor_tables.TABLES[0], chunk=2, after_chunk=stop_after_two_chunks
        )
    assert Delivery.objects.filter(event="customer_updated").count() == 4
    summary = backfill(tenant)
    assert summary.resources["customers"].fetched == 2  # only the rest
    assert Delivery.objects.filter(event="customer_updated").count() == 6


def test_saleors_manage_py_runs_it_with_the_dashboards_base_currency(store, capsys):
    from django.core.management import call_command

    from saleor_crm_plugin.tenants.models import Tenant

    call_command("crm_backfill")
    out = capsys.readouterr().out
    assert "orders" in out and "done" in out
    assert Tenant.objects.get().base_currency == "USD"  # from the plugin's settings
    assert OrderRecord.objects.count() == 1


@pytest.mark.parametrize("state", ["refunded in full", "refunded in part"])
def test_refunds_through_saleors_legacy_payments_count_in_both_doors(
    crm, order_with_lines, payment_txn_captured, state
):
    from decimal import Decimal

    from saleor.payment import ChargeStatus, TransactionKind

    payment = payment_txn_captured
    amount = payment.total if state == "refunded in full" else Decimal("5.00")
    payment.transactions.create(
        amount=amount, currency=payment.currency, kind=TransactionKind.REFUND,
        gateway_response={}, is_success=True,
    )  # fmt: skip
    if state == "refunded in full":
        payment.charge_status, payment.is_active = ChargeStatus.FULLY_REFUNDED, False
        payment.save()
    order = order_with_lines
    hooked = from_hooks("order_refunded", order).order
    assert hooked.refunded_minor == int(amount * 100) > 0
    backfill(plugin_tenant("USD"))
    (sql_order,) = backfilled("order_updated")
    assert sql_order.order == hooked
    profile = Profile.objects.get(email=order.user_email.lower())
    assert profile.refunded_minor == int(amount * 100)

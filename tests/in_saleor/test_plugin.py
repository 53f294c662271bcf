"""The plugin's door inside a real Saleor 3.24, through Saleor's plugin manager.

Run by hand (see ``conftest.py``); skipped wherever ``saleor`` is not importable, as in CI.
"""

from __future__ import annotations

import pytest

saleor = pytest.importorskip("saleor.plugins.manager", reason="Saleor is not installed here")

# Saleor reads some things from its "replica" alias (the same database in a by-hand set-up).
from tests.dbfaults import table_locked  # noqa: E402

pytestmark = [
    pytest.mark.saleor,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture
def crm_active(settings):
    from saleor.plugins.models import PluginConfiguration

    settings.PLUGINS = ["saleor_crm_plugin.plugin.CRMPlugin"]
    return PluginConfiguration.objects.create(
        identifier="saleor.crm",
        active=True,
        configuration=[{"name": "base_currency", "value": "EUR"}],
    )


@pytest.fixture
def manager(crm_active):
    from saleor.plugins.manager import get_plugins_manager

    return get_plugins_manager(allow_replica=False)


def test_saleor_discovers_the_plugin(manager, crm_active):
    plugin = manager.get_plugin("saleor.crm")
    assert plugin is not None and plugin.active
    assert plugin.settings.base_currency == "EUR"


def test_settings_saved_in_the_dashboard_reach_the_crm_tasks(manager, crm_active):
    """Saving through Saleor's pluginUpdate path keeps a copy where the CRM's tasks read it."""
    from saleor_crm_plugin.tenants import store_settings as config
    from saleor_crm_plugin.tenants.services import plugin_tenant

    plugin = manager.get_plugin("saleor.crm")
    change = [{"name": "recovery_delays_hours", "value": "2,30"}]
    type(plugin).save_plugin_configuration(crm_active, {"configuration": change})
    assert config.parse(plugin_tenant("EUR").settings).recovery_delays_hours == (2, 30)


def test_a_customer_created_in_saleor_becomes_a_profile_once(manager, crm_active):
    from saleor.account.models import User

    from saleor_crm_plugin.inbox.services import drain
    from saleor_crm_plugin.models import Delivery, Profile

    user = User.objects.create(
        email="Hanna.Schmidt@Example.de", first_name="Hanna", language_code="de"
    )
    manager.customer_created(user)
    manager.customer_created(user)  # the same state twice is stored once
    assert Delivery.objects.filter(source="plugin", event="customer_created").count() == 1
    drain()
    profile = Profile.objects.get()
    assert (profile.email, profile.first_name, profile.language) == (
        "hanna.schmidt@example.de",
        "Hanna",
        "de",
    )


def test_a_broken_crm_never_fails_saleor(manager, crm_active, settings):
    from saleor.account.models import User

    from saleor_crm_plugin.models import Delivery
    from saleor_crm_plugin.plugin.spool import spool

    settings.CRM_PLUGIN_HOOK_TIMEOUT_MS = 200
    user = User.objects.create(email="locked@example.com")
    with table_locked():
        manager.customer_updated(user)  # must return normally
    assert spool.flush(timeout=60)  # and the event is stored once the lock is gone
    assert Delivery.objects.filter(event="customer_updated").count() == 1


def test_the_plugin_route_serves_graphql(manager, crm_active):
    from django.test import RequestFactory

    request = RequestFactory().post(
        "/plugins/saleor.crm/graphql/",
        data='{"query": "{ crmMe { ordersCount } }"}',
        content_type="application/json",
    )
    response = manager.webhook_endpoint_without_channel(request, "saleor.crm")
    assert response.status_code == 200
    assert b"PermissionDenied" in response.content


def test_a_customer_token_from_saleor_reads_crm_me_through_the_plugin(manager, crm_active):
    import json

    from django.test import RequestFactory
    from saleor.account.models import User
    from saleor.core.jwt import create_access_token

    from saleor_crm_plugin.inbox.services import drain

    user = User.objects.create(email="ines@example.pt", language_code="pt")
    manager.customer_created(user)
    drain()
    request = RequestFactory().post(
        "/plugins/saleor.crm/graphql/",
        data='{"query": "{ crmMe { language ordersCount } }"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {create_access_token(user)}",
    )
    response = manager.webhook_endpoint_without_channel(request, "saleor.crm")
    assert json.loads(response.content) == {"data": {"crmMe": {"language": "pt", "ordersCount": 0}}}


@pytest.fixture
def eur_order():
    """A real Saleor order (channel, line, payment transaction) built with Saleor's models."""
    from decimal import Decimal

    from django.db import connection
    from saleor.channel.models import Channel
    from saleor.order.models import Order, OrderLine
    from saleor.payment.models import TransactionItem

    with connection.cursor() as cur:
        # With --nomigrations Django builds tables from models; Saleor's order-number sequence
        # comes from one of its migrations.
        cur.execute("CREATE SEQUENCE IF NOT EXISTS order_order_number_seq")
    channel = Channel.objects.create(
        name="EUR", slug="channel-eur", currency_code="EUR", default_country="DE"
    )
    order = Order.objects.create(
        channel=channel,
        currency="EUR",
        user_email="Guest@Example.de",
        origin="checkout",
        status="unfulfilled",
        lines_count=1,
        language_code="de",
        total_gross_amount=Decimal("23.50"),
        total_net_amount=Decimal("19.75"),
        undiscounted_total_gross_amount=Decimal("23.50"),
        undiscounted_total_net_amount=Decimal("19.75"),
        total_charged_amount=Decimal("23.50"),
    )
    prices = {
        f"{kind}_{part}_amount": value
        for kind, (gross, net) in {
            "unit_price": ("11.75", "9.875"),
            "total_price": ("23.50", "19.75"),
            "undiscounted_unit_price": ("11.75", "9.875"),
            "undiscounted_total_price": ("23.50", "19.75"),
        }.items()
        for part, value in (("gross", Decimal(gross)), ("net", Decimal(net)))
    }
    OrderLine.objects.create(
        order=order,
        product_name="Mug",
        variant_name="Blue",
        quantity=2,
        currency="EUR",
        is_shipping_required=True,
        is_gift_card=False,
        **prices,
    )
    TransactionItem.objects.create(
        order=order, name="Stripe", currency="EUR", charged_value=Decimal("23.50")
    )
    return order


def test_orders_from_saleor_are_seen_exactly_once_with_refunds(manager, crm_active, eur_order):
    from decimal import Decimal

    from saleor_crm_plugin.inbox.services import drain
    from saleor_crm_plugin.models import Delivery, Profile

    manager.order_created(eur_order)
    manager.order_paid(eur_order)
    manager.order_updated(eur_order)
    manager.order_updated(eur_order)  # same state again: no new delivery
    drain()
    guest = Profile.objects.get()
    assert (guest.email, guest.orders_count, guest.spent_gross_minor, guest.spent_net_minor) == (
        "guest@example.de",
        1,
        2350,
        1975,
    )
    transaction = eur_order.payment_transactions.get()
    transaction.refunded_value = Decimal("5.00")
    transaction.save()
    eur_order.save()  # Saleor bumps updated_at when it records the refund
    manager.order_refunded(eur_order)
    drain()
    guest.refresh_from_db()
    assert (guest.orders_count, guest.refunded_minor, guest.payment_methods) == (1, 500, ["Stripe"])
    assert Delivery.objects.filter(event="order_updated").count() == 1
    eur_order.status = "canceled"
    eur_order.save()
    manager.order_cancelled(eur_order)
    drain()
    guest.refresh_from_db()
    assert (guest.orders_count, guest.cancelled_orders_count, guest.spent_gross_minor) == (0, 1, 0)


def crm_graphql(manager, query: str, token: str) -> dict:
    import json

    from django.test import RequestFactory

    request = RequestFactory().post(
        "/plugins/saleor.crm/graphql/",
        data=json.dumps({"query": query}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    return json.loads(manager.webhook_endpoint_without_channel(request, "saleor.crm").content)


def test_a_staff_members_own_dashboard_token_carries_their_saleor_permissions(
    manager, crm_active, staff_user, permission_manage_users
):
    from saleor.account.models import User
    from saleor.core.jwt import create_access_token

    from saleor_crm_plugin.inbox.services import drain

    shopper = User.objects.create(email="ines@example.pt", language_code="pt")
    manager.customer_created(shopper)
    drain()
    query = "{ crmCustomers(first: 5) { edges { node { email } } } }"
    # tokenCreate's token: is_staff, no permissions claim; Saleor keeps them in its tables.
    refused = crm_graphql(manager, query, create_access_token(staff_user))
    assert refused["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    staff_user.user_permissions.add(permission_manage_users)
    staff_user = User.objects.get(pk=staff_user.pk)  # Saleor caches effective permissions
    allowed = crm_graphql(manager, query, create_access_token(staff_user))
    assert allowed == {
        "data": {"crmCustomers": {"edges": [{"node": {"email": "ines@example.pt"}}]}}
    }


def test_the_crm_tasks_run_on_saleors_celery_within_its_writer_rules(manager, crm_active, settings):
    """Saleor's tests make Celery tasks raise on unannounced writes to the primary database
    (production logs them); the CRM's tasks announce theirs, as Saleor's own do."""
    from saleor.account.models import User

    from saleor_crm_plugin.inbox.tasks import drain_inbox, sweep_inbox
    from saleor_crm_plugin.models import Profile

    settings.CRM_INBOX_DISPATCH = "external"  # nothing applies it but the task below
    manager.customer_created(User.objects.create(email="mateo@example.es", language_code="es"))
    assert drain_inbox.apply().get(timeout=30) == 1  # as an eager worker runs it
    assert sweep_inbox.apply().get(timeout=30) == 0
    assert Profile.objects.get().language == "es"
    from saleor_crm_plugin.loyalty.tasks import apply_tiers, expire_points, grant_birthday_bonuses

    for daily in (apply_tiers, expire_points, grant_birthday_bonuses):  # each store, no error
        assert daily.apply().get(timeout=30) == 0


def test_a_backlog_drains_on_saleors_celery_with_its_applier_threads(
    manager, crm_active, settings, monkeypatch
):
    """A drain task that finds a backlog starts its applier threads; each has its own
    connection, which Saleor's task class does not wrap, and announces its writes itself."""
    import threading

    from saleor.account.models import User

    from saleor_crm_plugin.inbox import services
    from saleor_crm_plugin.inbox.tasks import drain_inbox
    from saleor_crm_plugin.models import Delivery, Profile

    settings.CRM_INBOX_DISPATCH = "external"  # nothing applies them but the task below
    settings.CRM_INBOX_BATCH_SIZE = 3
    settings.CRM_INBOX_APPLIER_THREADS = 2
    for i in range(12):
        manager.customer_created(User.objects.create(email=f"c{i}@example.com"))
    claims: list[tuple[str, int]] = []
    process_batch = services.process_batch

    def recorded(limit, tenant_id=None, **kwargs):
        batch = process_batch(limit, tenant_id, **kwargs)
        claims.append((threading.current_thread().name, batch.claimed))
        return batch

    monkeypatch.setattr(services, "process_batch", recorded)
    assert drain_inbox.apply().get(timeout=60) == 12
    assert sum(n for _, n in claims) == 12
    assert {name for name, n in claims if n} - {threading.current_thread().name}  # a helper's
    assert Profile.objects.count() == 12
    assert not Delivery.objects.exclude(state="processed").exists()

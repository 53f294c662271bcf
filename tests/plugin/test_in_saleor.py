"""Inside a real Saleor 3.24, run by hand with Saleor's settings (``--ds=saleor.settings``).

Skipped wherever ``saleor`` is not importable, which is the case in CI: Saleor is not on PyPI.
"""

from __future__ import annotations

import pytest

saleor = pytest.importorskip("saleor.plugins.manager", reason="Saleor is not installed here")

# Saleor reads some things from its "replica" alias (the same database in a by-hand set-up).
pytestmark = [
    pytest.mark.saleor,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture
def crm_active():
    from saleor.plugins.models import PluginConfiguration

    return PluginConfiguration.objects.create(
        identifier="saleor.crm",
        active=True,
        configuration=[{"name": "base_currency", "value": "EUR"}],
    )


@pytest.fixture
def manager():
    from saleor.plugins.manager import get_plugins_manager

    return get_plugins_manager(allow_replica=False)


def test_saleor_discovers_the_plugin(manager, crm_active):
    plugin = manager.get_plugin("saleor.crm")
    assert plugin is not None and plugin.active
    assert plugin.settings.base_currency == "EUR"


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
    import psycopg
    from django.db import connection
    from saleor.account.models import User

    settings.CRM_WEBHOOK_DB_TIMEOUT_MS = 200
    user = User.objects.create(email="locked@example.com")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as locker:
        locker.execute("LOCK TABLE crm_inbox_delivery IN ACCESS EXCLUSIVE MODE")
        manager.customer_updated(user)  # must return normally


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

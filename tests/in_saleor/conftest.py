"""Inside a real Saleor 3.24, by hand: ``pytest tests/in_saleor --ds=saleor.tests.settings``.

Saleor is not on PyPI, so CI has no ``saleor`` to import and everything here is skipped. Where
it is importable, Saleor's own test fixtures (stores, channels, products, checkouts, API
clients) are loaded so the tests can drive Saleor's real mutations. ``docs/plugin.md`` says how
to run them.
"""

from __future__ import annotations

import importlib.util

import pytest

if importlib.util.find_spec("saleor") is not None:
    import django.test
    from django.conf import settings as django_settings

    # Saleor reads some things through its "replica" alias; in a by-hand run it is the same
    # database. These two lines are what Saleor's own root conftest does.
    _DATABASES = {
        django_settings.DATABASE_CONNECTION_DEFAULT_NAME,
        django_settings.DATABASE_CONNECTION_REPLICA_NAME,
    }
    django.test.TransactionTestCase.databases = _DATABASES  # type: ignore[assignment]
    django.test.TestCase.databases = _DATABASES  # type: ignore[assignment]

    from saleor.tests.utils import prepare_test_db_connections

    prepare_test_db_connections()

    # The fixture modules Saleor's root conftest loads (module names, not Saleor's code).
    pytest_plugins = [
        f"saleor.{name}"
        for name in (
            "tests.fixtures",
            "app.tests.fixtures",
            "plugins.tests.fixtures",
            "graphql.tests.fixtures",
            "webhook.tests.fixtures",
            "tax.tests.fixtures",
            "channel.tests.fixtures",
            "page.tests.fixtures",
            "menu.tests.fixtures",
            "warehouse.tests.fixtures",
            "thumbnail.tests.fixtures",
            "order.tests.fixtures",
            "product.tests.fixtures",
            "site.tests.fixtures",
            "shipping.tests.fixtures",
            "permission.tests.fixtures",
            "giftcard.tests.fixtures",
            "discount.tests.fixtures",
            "checkout.tests.fixtures",
            "attribute.tests.fixtures",
            "account.tests.fixtures",
            "graphql.account.tests.fixtures",
            "payment.tests.fixtures",
            "webhook.tests.circuit_breaker.fixtures",
        )
    ]


@pytest.fixture
def crm(settings):
    """The CRM plugin, enabled in Saleor's dashboard with USD as base currency."""
    from django.db import connection
    from saleor.plugins.models import PluginConfiguration

    with connection.cursor() as cur:
        # With --nomigrations Django builds tables from models; Saleor's order-number sequence
        # comes from one of its migrations.
        cur.execute("CREATE SEQUENCE IF NOT EXISTS order_order_number_seq")
    settings.PLUGINS = ["saleor_crm_plugin.plugin.CRMPlugin"]
    return PluginConfiguration.objects.create(
        identifier="saleor.crm",
        active=True,
        configuration=[{"name": "base_currency", "value": "USD"}],
    )


@pytest.fixture(autouse=True)
def _no_events_held_across_tests():
    """Events the plugin's spool holds belong to the test that made them, not the next one."""
    if importlib.util.find_spec("saleor") is None:
        yield
        return
    from saleor_crm_plugin.plugin.spool import spool

    spool.clear()
    yield
    spool.clear()  # not flushed: the test's database may be emptied already

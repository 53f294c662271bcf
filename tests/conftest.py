from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import recordings
from tests.loopback import LoopbackServer

DATA = Path(__file__).parent / "data"

# The SMTP server fixture (``smtp``) for every test that sends e-mail; a quicker reset of the
# database after transactional tests (tests/dbreset.py).
pytest_plugins = ["tests.mail", "tests.dbreset"]


class JWKSServer(LoopbackServer):
    """Saleor's ``/.well-known/jwks.json`` on loopback, counting how often it is fetched."""

    def __init__(self, jwks: dict) -> None:
        super().__init__(lambda request: (200, jwks))
        self.url = f"{self.base_url}/.well-known/jwks.json"

    @property
    def hits(self) -> int:
        return len(self.requests)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """``CRM_TEST_INBOX_PARTITIONED=1`` runs the tests on an inbox in monthly partitions
    (docs/scaleout.md) from January 2025 to June 2027 (30 partitions, about what a store
    keeps), to show the inbox behaves the same on both layouts. A test that files a delivery
    outside those months fails with "no partition", as production would."""
    if os.environ.get("CRM_TEST_INBOX_PARTITIONED") == "1":
        from saleor_crm_plugin.scaleout.partitions import partition_inbox

        with django_db_blocker.unblock():
            partition_inbox(datetime(2026, 12, 1, tzinfo=UTC), 6, since=date(2025, 1, 1))


@pytest.fixture(autouse=True)
def apply_deliveries_in_the_request(settings) -> None:
    """Tests read results right after a webhook answers: apply inside the request."""
    settings.CRM_INBOX_DISPATCH = "eager"


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Rate-limit counters live in the cache; each test starts with none (nor with tenants
    remembered from a rolled-back test)."""
    from django.core.cache import cache

    from saleor_crm_plugin.tenants.services import forget_tenants

    cache.clear()
    forget_tenants()


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer(recordings.jwks())
    yield server
    server.close()


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    """One RSA key for the whole run: making one costs a tenth of a second or more on a busy
    machine, and each test still installs it in its own tenant's JWKS."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def rates() -> None:
    from saleor_crm_plugin.money.services import load_rates

    load_rates(DATA / "rates.csv")


@pytest.fixture
def tenant(settings, jwks_server: JWKSServer):
    """The recorded Saleor, installed with EUR as base currency; its JWKS is fetched on demand
    from a real HTTP server, as it would be from Saleor."""
    from saleor_crm_plugin.tenants.services import register_tenant

    settings.CRM_BASE_CURRENCY = "EUR"
    tenant = register_tenant(api_url=recordings.API_URL, app_token="app-token-123")
    tenant.jwks_url = jwks_server.url
    tenant.save(update_fields=["jwks_url"])
    return tenant

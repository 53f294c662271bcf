from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from saleor_crm_plugin.demo.signing import DemoSigner

from .harness import API_URL, BROKER


@pytest.fixture
def signer(settings) -> DemoSigner:
    """Plays Saleor: a store installed with EUR as base currency, whose deliveries it signs."""
    from saleor_crm_plugin.tenants.services import register_tenant

    settings.CRM_BASE_CURRENCY = "EUR"
    signer = DemoSigner()
    register_tenant(api_url=API_URL, app_token="t", base_currency="EUR", jwks=signer.jwks())
    return signer


@pytest.fixture
def broker_db() -> Iterator[str]:
    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 (scripts/services starts it)")
    client.flushdb()
    yield BROKER
    client.flushdb()

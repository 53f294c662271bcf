"""A flood of deliveries signed with made-up ``kid``s cannot make us hammer Saleor's JWKS."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from saleor_crm_plugin.models import Delivery
from saleor_crm_plugin.tenants import jwks as jwks_module
from saleor_crm_plugin.tenants.services import register_tenant
from tests import recordings
from tests.conftest import JWKSServer

pytestmark = pytest.mark.django_db(transaction=True)

FLOOD = 120  # forged deliveries per store per minute


class Clock:
    """The JWKS rate limit's idea of now, moved by the test."""

    def __init__(self) -> None:
        self.at = timezone.now()

    def now(self):
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()

    class FrozenTimezone:
        now = staticmethod(clock.now)

    monkeypatch.setattr(jwks_module, "timezone", FrozenTimezone)
    return clock


def forged(body: bytes, kid: str, key) -> str:
    return jwt.api_jws.encode(
        body,
        key,
        algorithm="RS256",
        headers={"kid": kid, "b64": False, "crit": ["b64"]},
        is_payload_detached=True,
    )


def test_forged_kid_flood_fetches_each_stores_jwks_at_most_once_a_minute(
    live_server, tenant, jwks_server, clock
):
    other_jwks = JWKSServer(recordings.jwks())
    other_url = "https://other-store.example.com/graphql/"
    other = register_tenant(api_url=other_url, app_token="other-token")
    other.jwks_url = other_jwks.url
    other.save(update_fields=["jwks_url"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    item = recordings.delivery(10)
    headers = recordings.request_headers(item)

    def attack(n: int) -> int:
        api_url = recordings.API_URL if n % 2 else other_url
        signature = forged(item.body, f"forged-{n}-{'x' * (n % 50)}", key)
        response = requests.post(
            f"{live_server.url}/api/webhooks",
            data=item.body,
            headers={**headers, "Saleor-Api-Url": api_url, "Saleor-Signature": signature},
            timeout=30,
        )
        return response.status_code

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            first_minute = list(pool.map(attack, range(2 * FLOOD)))
        assert set(first_minute) == {401}
        assert (jwks_server.hits, other_jwks.hits) == (1, 1)

        clock.at += timedelta(seconds=59)
        with ThreadPoolExecutor(max_workers=8) as pool:
            still = list(pool.map(attack, range(2 * FLOOD, 3 * FLOOD)))
        assert set(still) == {401}
        assert (jwks_server.hits, other_jwks.hits) == (1, 1)

        # A minute after the last fetch each store may be asked once more, and only once.
        clock.at += timedelta(seconds=2)
        with ThreadPoolExecutor(max_workers=8) as pool:
            later = list(pool.map(attack, range(3 * FLOOD, 4 * FLOOD)))
        assert set(later) == {401}
        assert (jwks_server.hits, other_jwks.hits) == (2, 2)
    finally:
        other_jwks.close()
    assert Delivery.objects.count() == 0
    # The genuine key is still known: a real delivery goes through after the flood.
    assert json.loads(requests.post(
        f"{live_server.url}/api/webhooks", data=item.body, headers=headers, timeout=30
    ).content)["success"] is True  # fmt: skip

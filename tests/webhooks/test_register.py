"""Installing the app: Saleor posts its app token to /api/register."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from saleor_crm_plugin.models import Tenant
from saleor_crm_plugin.tenants.services import app_token
from tests.loopback import LoopbackServer, Request

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_TOKEN = "secret-app-token"


class SaleorAPI(LoopbackServer):
    """Saleor's GraphQL endpoint on loopback: ``app { id }`` answers only for the real token,
    the way Saleor answers an unauthenticated ``app`` query (null and a permission error)."""

    def __init__(self) -> None:
        super().__init__(self.app_query)
        self.api_url = f"{self.base_url}/graphql/"

    @staticmethod
    def app_query(request: Request) -> tuple[int, dict]:
        if request.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}":
            return 200, {"data": {"app": {"id": "QXBwOjE="}}}
        return 200, {
            "data": {"app": None},
            "errors": [{"message": "You need one of: AUTHENTICATED_APP"}],
        }

    @property
    def seen(self) -> list[str]:
        return [r.headers.get("Authorization", "") for r in self.requests]


@pytest.fixture
def saleor() -> Iterator[SaleorAPI]:
    api = SaleorAPI()
    yield api
    api.close()


def register(live_server, api_url: str, token: str) -> requests.Response:
    return requests.post(
        f"{live_server.url}/api/register",
        json={"auth_token": token},
        headers={"Saleor-Api-Url": api_url, "Saleor-Domain": "127.0.0.1"},
        timeout=10,
    )


def test_register_verifies_the_token_and_stores_it_encrypted(live_server, saleor, settings):
    settings.CRM_BASE_CURRENCY = "PLN"
    response = register(live_server, saleor.api_url, GOOD_TOKEN)
    assert response.json() == {"success": True}
    assert saleor.seen == [f"Bearer {GOOD_TOKEN}"]
    tenant = Tenant.objects.get()
    assert tenant.base_currency == "PLN"
    assert GOOD_TOKEN not in tenant.app_token_encrypted
    assert app_token(tenant) == GOOD_TOKEN


def test_a_made_up_token_cannot_replace_the_real_one(live_server, saleor):
    assert register(live_server, saleor.api_url, GOOD_TOKEN).status_code == 200
    forged = register(live_server, saleor.api_url, "attacker-token")
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "TOKEN_REJECTED"
    assert app_token(Tenant.objects.get()) == GOOD_TOKEN


def test_saleor_unreachable_answers_503_so_the_install_can_be_retried(live_server, saleor):
    saleor.close()
    response = register(live_server, saleor.api_url, GOOD_TOKEN)
    assert response.status_code == 503
    assert Tenant.objects.count() == 0


def test_register_refuses_a_saleor_outside_the_allow_list(live_server, saleor, settings):
    settings.CRM_ALLOWED_SALEOR_API_URLS = ["https://shop.example.com/graphql/"]
    response = register(live_server, saleor.api_url, GOOD_TOKEN)
    assert response.status_code == 403
    assert saleor.seen == []  # refused before calling anyone
    assert Tenant.objects.count() == 0


@pytest.mark.parametrize("body", [b"", b"not json", b'{"token": "x"}', b'["auth_token"]'])
def test_register_without_a_token_is_a_bad_request(live_server, saleor, body):
    response = requests.post(
        f"{live_server.url}/api/register",
        data=body,
        headers={"Saleor-Api-Url": saleor.api_url},
        timeout=10,
    )
    assert response.status_code == 400
    assert Tenant.objects.count() == 0

"""Server-to-server: a Saleor app's token, confirmed by that Saleor, with its permissions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.test import Client

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.tenants.services import register_tenant
from tests import recordings
from tests.loopback import LoopbackServer, Request

pytestmark = pytest.mark.django_db(transaction=True)

APPS = {
    "erp-app-token": ["MANAGE_USERS", "MANAGE_ORDERS"],
    "reviews-app-token": ["MANAGE_PRODUCTS"],
}
QUERY = '{ crmCustomer(email: "anna.mueller@example.de") { ordersCount totalSpent { amount } } }'


class SaleorApps(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(self.app)
        self.api_url = f"{self.base_url}/graphql/"

    @staticmethod
    def app(request: Request) -> tuple[int, dict]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in APPS:
            return 200, {"data": {"app": None}, "errors": [{"message": "Permission denied"}]}
        perms = [{"code": code} for code in APPS[token]]
        return 200, {"data": {"app": {"id": "QXBwOjc=", "permissions": perms}}}


@pytest.fixture
def saleor() -> Iterator[SaleorApps]:
    server = SaleorApps()
    yield server
    server.close()


@pytest.fixture
def shop(saleor, rates):
    tenant = register_tenant(api_url=saleor.api_url, app_token="ours", base_currency="EUR")
    for item in recordings.deliveries():
        accept(tenant, event=item.event, body=item.body, headers={})
    drain()
    return tenant


def ask(saleor: SaleorApps, token: str, api_url: str | None = None) -> dict:
    response = Client().post(
        "/graphql/",
        data=json.dumps({"query": QUERY}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_SALEOR_API_URL=api_url or saleor.api_url,
    )
    return response.json()


def test_an_app_with_manage_users_reads_profiles(saleor, shop):
    result = ask(saleor, "erp-app-token")
    assert result["data"]["crmCustomer"] == {"ordersCount": 2, "totalSpent": {"amount": 196.6}}


def test_the_app_is_confirmed_once_then_cached(saleor, shop):
    for _ in range(3):
        ask(saleor, "erp-app-token")
    assert len(saleor.requests) == 1


def test_an_app_without_the_permission_is_refused(saleor, shop):
    result = ask(saleor, "reviews-app-token")
    assert result["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"


def test_an_unknown_token_or_saleor_is_refused(saleor, shop):
    assert ask(saleor, "stolen-token")["errors"][0]["message"] == (
        "Saleor does not recognise this app token."
    )
    other = ask(saleor, "erp-app-token", api_url="https://other.example.com/graphql/")
    assert "Saleor-Api-Url" in other["errors"][0]["message"]

"""Installing the app: Saleor posts its app token to /api/register."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from saleor_crm_plugin.models import Tenant
from saleor_crm_plugin.tenants.services import app_token

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_TOKEN = "secret-app-token"


class SaleorAPI:
    """Saleor's GraphQL endpoint on loopback: ``app { id }`` answers only for the real token,
    the way Saleor answers an unauthenticated ``app`` query (null and a permission error)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.seen.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}":
                    payload: dict = {"data": {"app": {"id": "QXBwOjE="}}}
                else:
                    payload = {
                        "data": {"app": None},
                        "errors": [{"message": "You need one of: AUTHENTICATED_APP"}],
                    }
                body = json.dumps(payload).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_port}/graphql/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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

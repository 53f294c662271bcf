from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm")

from tests import recordings

DATA = Path(__file__).parent / "data"


class JWKSServer:
    """Saleor's ``/.well-known/jwks.json`` on loopback, counting how often it is fetched."""

    def __init__(self, jwks: dict) -> None:
        self.jwks = jwks
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer(recordings.jwks())
    yield server
    server.close()


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

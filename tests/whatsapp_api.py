"""Meta's WhatsApp Cloud API for tests: a stand-in for ``/v{ver}/{phone id}/messages`` and
webhook bodies signed the way Meta signs them (``X-Hub-Signature-256``)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from typing import Any

from tests.loopback import LoopbackServer, Request

PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAG-whatsapp-test-token"
APP_SECRET = "meta-app-secret-0123"
VERIFY_TOKEN = "verify-me-please"
VERSION = "21.0"
_ids = itertools.count(1)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(value: dict[str, Any]) -> bytes:
    """One delivery as Meta sends it: an entry with one "messages" change."""
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "WABA_ID",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                                **value,
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


class WhatsAppStandIn(LoopbackServer):
    def __init__(self) -> None:
        self.scripted: list[tuple[int, dict[str, Any]]] = []
        super().__init__(self._answer)

    def fail_next(self, status: int, code: int, message: str = "error") -> None:
        self.scripted.append(
            (status, {"error": {"message": message, "type": "OAuthException", "code": code}})
        )

    def _answer(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"error": {"message": "Invalid OAuth access token", "code": 190}}
        if request.method != "POST" or request.path != f"/v{VERSION}/{PHONE_NUMBER_ID}/messages":
            return 404, {"error": {"message": "Unknown path", "code": 100}}
        body = request.json()
        template = body.get("template") or {}
        if (
            body.get("messaging_product") != "whatsapp"
            or body.get("type") != "template"
            or not str(body.get("to", "")).isdigit()
            or not template.get("name")
            or not (template.get("language") or {}).get("code")
        ):
            return 400, {"error": {"message": "(#100) Invalid parameter", "code": 100}}
        if self.scripted:
            return self.scripted.pop(0)
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": f"wamid.TEST{next(_ids):020d}"}],
        }

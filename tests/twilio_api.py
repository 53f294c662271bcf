"""Twilio for tests: a stand-in for its Messages API, and requests signed the way Twilio signs.

The stand-in is a real HTTP server on loopback that checks what Twilio checks (basic auth with
the account SID and auth token, the account in the path, a form-encoded To/Body and a sender)
and answers in Twilio's shapes. ``fail_next`` scripts errors (429, 21610 ...) for the next calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.loopback import LoopbackServer, Request

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-0123456789"
FROM = "+15005550006"
_ids = itertools.count(1)


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Twilio's documented algorithm, written out independently of the code under test."""
    data = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def form(params: dict[str, str]) -> str:
    return urlencode(params)


class TwilioStandIn(LoopbackServer):
    def __init__(self) -> None:
        self.scripted: list[tuple[int, dict[str, Any]]] = []
        super().__init__(self._answer)

    def fail_next(self, status: int, code: int, message: str = "error") -> None:
        self.scripted.append((status, {"code": code, "message": message, "status": status}))

    def _answer(self, request: Request) -> tuple[int, Any]:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        if request.method != "POST" or request.path != (
            f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        ):
            return 404, {"code": 20404, "message": "not found", "status": 404}
        if not request.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return 400, {"code": 21601, "message": "not a form", "status": 400}
        sent = dict(parse_qsl(request.body.decode()))
        if not sent.get("To") or not sent.get("Body"):
            return 400, {"code": 21604, "message": "To and Body are required", "status": 400}
        if not sent.get("From") and not sent.get("MessagingServiceSid"):
            return 400, {
                "code": 21603,
                "message": "A 'From' phone number is required",
                "status": 400,
            }
        if self.scripted:
            return self.scripted.pop(0)
        return 201, {"sid": f"SM{next(_ids):032x}", "status": "queued", "to": sent["To"]}

    def forms(self) -> list[dict[str, str]]:
        return [dict(parse_qsl(r.body.decode())) for r in self.requests]

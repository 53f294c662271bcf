"""Stripe for tests: events signed the way Stripe signs them, and a stand-in for its API.

The stand-in is a real HTTP server on loopback; the real ``stripe`` client talks to it
(``stripe.api_base`` points there), so requests are built and answers parsed by stripe itself.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qsl

import requests

from tests.loopback import LoopbackServer, Request

SECRET = "whsec_test_0123456789abcdef"
API_KEY = "sk_test_crm_0123456789"
_ids = itertools.count(1)


def signature(body: bytes, secret: str = SECRET, at: float | None = None) -> str:
    stamp = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def event(kind: str, obj: dict[str, Any], *, id: str | None = None, created: int = 0) -> bytes:
    """An event as Stripe sends it (API version 2023-10-16 shape, the fields we read)."""
    return json.dumps(
        {
            "id": id or f"evt_test_{next(_ids):06d}",
            "object": "event",
            "api_version": "2023-10-16",
            "created": created or int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": obj},
        }
    ).encode()


def charge(
    intent: str, *, amount: int, refunded: int, currency: str = "eur", id: str = ""
) -> dict[str, Any]:
    return {
        "id": id or f"ch_{intent}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded,
        "currency": currency,
        "payment_intent": intent,
        "refunded": refunded >= amount,
    }


def dispute(
    id: str, intent: str, *, status: str, amount: int, currency: str = "eur"
) -> dict[str, Any]:
    return {
        "id": id,
        "object": "dispute",
        "amount": amount,
        "currency": currency,
        "charge": f"ch_{intent}",
        "payment_intent": intent,
        "status": status,
        "reason": "fraudulent",
    }


def post(url: str, body: bytes, header: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return requests.post(url, data=body, headers=headers, timeout=10)


class StripeStandIn(LoopbackServer):
    """Stripe's API on loopback: creates Checkout Sessions, remembering what was asked."""

    def __init__(self) -> None:
        super().__init__(self._answer)

    def _answer(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}
        if request.method == "POST" and request.path == "/v1/checkout/sessions":
            form = dict(parse_qsl(request.body.decode()))
            number = next(_ids)
            return 200, {
                "id": f"cs_test_{number}",
                "object": "checkout.session",
                "mode": form.get("mode"),
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{number}",
                "client_reference_id": form.get("client_reference_id"),
                "customer_email": form.get("customer_email"),
                "metadata": {
                    k[len("metadata[") : -1]: v
                    for k, v in form.items()
                    if k.startswith("metadata[")
                },
            }
        return 404, {"error": {"type": "invalid_request_error", "message": "No such route"}}

    def forms(self, path: str) -> list[dict[str, str]]:
        return [dict(parse_qsl(r.body.decode())) for r in self.requests if r.path == path]

"""A small GraphQL client for Saleor's API with the app token, retrying what is transient."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import requests

from ..conf import crm_settings


class BackfillError(Exception):
    """Saleor refused the request or kept failing; the message says which."""


class SaleorGraphQL:
    def __init__(self, api_url: str, token: str, *, attempts: int = 5) -> None:
        self.api_url = api_url
        self.attempts = attempts
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The ``data`` of a query. Amounts are parsed as ``Decimal`` so 6.205 KWD stays exact."""
        last = ""
        for attempt in range(self.attempts):
            try:
                response = self.session.post(
                    self.api_url,
                    json={"query": query, "variables": variables},
                    timeout=crm_settings.HTTP_TIMEOUT_SECONDS * 6,
                )
            except requests.RequestException as exc:
                last = f"Saleor did not answer ({type(exc).__name__})"
            else:
                if response.status_code >= 500:
                    last = f"Saleor answered {response.status_code}"
                elif response.status_code != 200:
                    raise BackfillError(
                        f"Saleor refused the request ({response.status_code}): is the app "
                        "token still valid and does the app have MANAGE_USERS and MANAGE_ORDERS?"
                    )
                else:
                    payload = json.loads(response.text, parse_float=Decimal)
                    if payload.get("errors"):
                        messages = "; ".join(str(e.get("message")) for e in payload["errors"])
                        raise BackfillError(f"Saleor answered with errors: {messages}")
                    return dict(payload.get("data") or {})
            time.sleep(min(0.2 * 2**attempt, 5.0))
        raise BackfillError(f"{last} after {self.attempts} attempts")

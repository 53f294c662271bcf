"""A small GraphQL client for Saleor's API with the app token, retrying what is transient.

A backfill runs for minutes or hours against a Saleor that is also serving shoppers, so a 5xx,
a 429 or a dropped connection is worth a few patient retries; a 4xx or a GraphQL ``errors``
entry will not change by asking again, so it stops the run at once with the reason. The token
only ever travels in the ``Authorization`` header: it is in no message and no log line.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from types import TracebackType
from typing import Any

import requests

from ..conf import crm_settings

logger = logging.getLogger(__name__)

# A page of 100 orders with lines, transactions and events is a heavy query: Saleor gets longer
# to answer it than to serve a JWKS, so the read timeout is a multiple of the configured one
# (which stays the connect timeout).
READ_TIMEOUT_FACTOR = 6
MAX_BACKOFF_SECONDS = 30.0
sleep = time.sleep  # tests replace it to see the backoff without waiting for it


class SaleorAPIError(Exception):
    """Saleor refused the request or kept failing; the message says which and what to do."""


BackfillError = SaleorAPIError  # the backfill's name for it


class SaleorGraphQL:
    """POSTs queries to one Saleor with its app token."""

    def __init__(
        self, api_url: str, token: str, *, attempts: int = 5, backoff: float = 0.5
    ) -> None:
        self.api_url = api_url
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __enter__(self) -> SaleorGraphQL:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The ``data`` of a query, its floats parsed as ``Decimal`` so 6.205 KWD stays exact."""
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.session.post(
                    self.api_url,
                    json={"query": query, "variables": variables},
                    timeout=(
                        crm_settings.HTTP_TIMEOUT_SECONDS,
                        crm_settings.HTTP_TIMEOUT_SECONDS * READ_TIMEOUT_FACTOR,
                    ),
                )
            except requests.RequestException as exc:
                problem = f"Saleor did not answer ({type(exc).__name__})"
            else:
                status = response.status_code
                if status < 400:
                    return _data(response)
                if status != 429 and status < 500:
                    raise BackfillError(_refused(status))
                problem = f"Saleor answered {status}"
            if attempt < self.attempts:
                wait = min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                logger.warning(
                    "Saleor API: %s at %s (attempt %s of %s), retrying in %.1fs",
                    problem,
                    self.api_url,
                    attempt,
                    self.attempts,
                    wait,
                )
                sleep(wait)
        raise BackfillError(f"{problem} after {self.attempts} attempts")


def _refused(status: int) -> str:
    if status in (401, 403):
        return (
            f"Saleor refused the app token ({status}): reinstall the app if it was removed, "
            "and check it has MANAGE_USERS and MANAGE_ORDERS"
        )
    return f"Saleor refused the request ({status})"


def _data(response: requests.Response) -> dict[str, Any]:
    try:
        payload = json.loads(response.text, parse_float=Decimal)
    except ValueError as exc:
        raise BackfillError(
            f"Saleor answered {response.status_code} with something that is not JSON: "
            "is the API URL the GraphQL endpoint (…/graphql/)?"
        ) from exc
    if not isinstance(payload, dict):
        raise BackfillError("Saleor answered with JSON that is not a GraphQL response")
    errors = payload.get("errors")
    if errors:
        messages = "; ".join(
            str(e.get("message")) if isinstance(e, dict) else str(e) for e in errors
        )
        raise BackfillError(f"Saleor answered with errors: {messages}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BackfillError("Saleor answered without data")
    return data

"""The one call registration makes to Saleor: proving the app token is Saleor's own."""

from __future__ import annotations

import requests

from ..conf import crm_settings
from .errors import TenantError


class TokenRejected(TenantError):
    code = "token_rejected"


class SaleorUnavailable(TenantError):
    code = "saleor_unavailable"


def app_permissions(api_url: str, token: str) -> tuple[str, frozenset[str]]:
    """The app's id and permission codes, if ``token`` is an app token of that Saleor."""
    data = _app_query(api_url, token, "query CRMApp { app { id permissions { code } } }")
    return str(data["id"]), frozenset(p["code"] for p in data.get("permissions") or [])


def verify_app_token(api_url: str, token: str) -> str:
    """Return the app's id if ``token`` is an app token of the Saleor at ``api_url``.

    Without this check anyone could post a made-up token for a real Saleor URL to
    ``/api/register`` and replace the genuine one (Saleor's app-sdk checks the same way).
    """
    return str(_app_query(api_url, token, "query CRMAppId { app { id } }")["id"])


def _app_query(api_url: str, token: str, query: str) -> dict:
    try:
        response = requests.post(
            api_url,
            json={"query": query},
            headers={"Authorization": f"Bearer {token}"},
            timeout=crm_settings.HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise SaleorUnavailable(
            f"Saleor at {api_url} did not answer: {type(exc).__name__}"
        ) from exc
    if response.status_code >= 500:
        raise SaleorUnavailable(f"Saleor at {api_url} answered {response.status_code}")
    try:
        payload = response.json()
    except ValueError as exc:
        raise TokenRejected(f"Saleor at {api_url} did not answer with GraphQL") from exc
    app = (payload.get("data") or {}).get("app") or {}
    if response.status_code != 200 or not app.get("id"):
        raise TokenRejected("Saleor does not recognise this app token")
    return dict(app)

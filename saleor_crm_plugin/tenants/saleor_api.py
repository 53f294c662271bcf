"""The one call registration makes to Saleor: proving the app token is Saleor's own."""

from __future__ import annotations

import requests

from ..conf import crm_settings
from .errors import TenantError


class TokenRejected(TenantError):
    code = "token_rejected"


class SaleorUnavailable(TenantError):
    code = "saleor_unavailable"


def verify_app_token(api_url: str, token: str) -> str:
    """Return the app's id if ``token`` is an app token of the Saleor at ``api_url``.

    Without this check anyone could post a made-up token for a real Saleor URL to
    ``/api/register`` and replace the genuine one (Saleor's app-sdk checks the same way).
    """
    try:
        response = requests.post(
            api_url,
            json={"query": "query CRMAppId { app { id } }"},
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
    app_id = ((payload.get("data") or {}).get("app") or {}).get("id")
    if response.status_code != 200 or not app_id:
        raise TokenRejected("Saleor does not recognise this app token")
    return str(app_id)

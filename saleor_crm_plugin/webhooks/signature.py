"""Verifying ``Saleor-Signature``: a JWS (RS256, detached, unencoded payload) over the raw body.

Saleor signs with a key published at ``/.well-known/jwks.json``. We cache that JWKS on the
tenant and refetch it only when a delivery names a ``kid`` we do not know, at most once per
``CRM_JWKS_REFETCH_SECONDS``, so a flood of forged ``kid``s cannot make us hammer Saleor.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import jwt
import requests
from django.db.models import Q
from django.utils import timezone

from ..conf import crm_settings
from ..tenants.models import Tenant
from ..tenants.services import default_jwks_url

logger = logging.getLogger(__name__)


class SignatureError(Exception):
    """The delivery is not from this Saleor: answer 401 and keep nothing."""


class JWKSUnavailable(Exception):
    """The key could not be fetched now: answer 503 so Saleor retries."""


def _key_for(jwks: dict[str, Any], kid: str) -> Any | None:
    for entry in jwks.get("keys", []):
        if entry.get("kid") == kid:
            try:
                return jwt.PyJWK(entry, algorithm="RS256").key
            except jwt.PyJWKError:
                return None
    return None


def _refetch_jwks(tenant: Tenant) -> bool:
    """Fetch the JWKS if no fetch happened recently; return whether a new JWKS was stored."""
    now = timezone.now()
    window = now - timedelta(seconds=crm_settings.JWKS_REFETCH_SECONDS)
    # Claim the right to fetch with one conditional UPDATE so concurrent requests fetch once.
    claimed = (
        Tenant.objects.filter(pk=tenant.pk)
        .filter(Q(jwks_fetched_at__isnull=True) | Q(jwks_fetched_at__lt=window))
        .update(jwks_fetched_at=now)
    )
    if not claimed:
        return False
    url = tenant.jwks_url or default_jwks_url(tenant.saleor_api_url)
    try:
        response = requests.get(url, timeout=crm_settings.HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        jwks = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("JWKS fetch failed for tenant %s: %s", tenant.pk, type(exc).__name__)
        raise JWKSUnavailable(str(exc)) from exc
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise JWKSUnavailable("JWKS response has no keys")
    tenant.jwks = jwks
    tenant.jwks_fetched_at = now
    Tenant.objects.filter(pk=tenant.pk).update(jwks=jwks)
    return True


def verify_signature(tenant: Tenant, signature: str, body: bytes) -> None:
    """Raise ``SignatureError`` unless ``signature`` is Saleor's RS256 JWS over ``body``."""
    if not signature:
        raise SignatureError("missing Saleor-Signature header")
    try:
        header = jwt.get_unverified_header(signature)
    except jwt.PyJWTError as exc:
        raise SignatureError("signature is not a JWS") from exc
    if header.get("alg") != "RS256":
        raise SignatureError(f"algorithm {header.get('alg')!r} is not accepted")
    kid = str(header.get("kid") or "")
    key = _key_for(tenant.jwks or {}, kid)
    if key is None and _refetch_jwks(tenant):
        key = _key_for(tenant.jwks, kid)
    if key is None:
        raise SignatureError("unknown signing key")
    try:
        jwt.api_jws.decode_complete(signature, key, algorithms=["RS256"], detached_payload=body)
    except jwt.PyJWTError as exc:
        raise SignatureError("signature does not match the body") from exc


def parse_json_object(body: bytes) -> Any:
    return json.loads(body)

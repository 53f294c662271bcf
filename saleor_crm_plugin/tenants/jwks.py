"""The signing keys of a Saleor instance, cached per tenant.

Saleor signs webhooks and its JWTs with keys published at ``/.well-known/jwks.json``. We refetch
that JWKS only when a signature names a ``kid`` we do not know, at most once per
``CRM_JWKS_REFETCH_SECONDS`` (a single conditional UPDATE decides who fetches), so a flood of
forged ``kid``s cannot make us hammer Saleor.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import timedelta
from typing import Any

import jwt
import requests
from django.db import transaction
from django.utils import timezone

from ..conf import crm_settings
from .models import Tenant
from .services import default_jwks_url

logger = logging.getLogger(__name__)


class JWKSUnavailable(Exception):
    """The keys could not be fetched now: the caller should ask to be retried."""


@functools.lru_cache(maxsize=256)
def _parse_key(entry_json: str) -> Any | None:
    """Parsing an RSA JWK costs more than verifying with it; every webhook needs one."""
    try:
        return jwt.PyJWK(json.loads(entry_json), algorithm="RS256").key
    except jwt.PyJWKError:
        return None


def key_from_jwks(jwks: dict[str, Any], kid: str) -> Any | None:
    for entry in jwks.get("keys", []):
        if entry.get("kid") == kid:
            n, e = entry.get("n"), entry.get("e")
            if entry.get("kty") == "RSA" and isinstance(n, str) and isinstance(e, str):
                # An RSA key is its modulus and exponent: the cache is found without building
                # the entry's JSON text per webhook (7 us, a percent of the door's CPU).
                return _rsa_key(n, e)
            return _parse_key(json.dumps(entry, sort_keys=True))
    return None


@functools.lru_cache(maxsize=256)
def _rsa_key(n: str, e: str) -> Any | None:
    return _parse_key(json.dumps({"e": e, "kty": "RSA", "n": n}, sort_keys=True))


def _fetch(tenant: Tenant) -> dict[str, Any]:
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
    return jwks


def _refetch(tenant: Tenant) -> bool:
    """Fetch the JWKS unless a fetch happened recently; return whether ``tenant`` now holds a
    JWKS it did not have.

    One request fetches while holding the tenant's row lock; requests that need a key at the
    same moment wait for it and take what it stored. Without the wait, the first deliveries
    of a store whose keys were not fetched yet, arriving together, were refused as forged
    (401, which Saleor does not retry) while one of them was still fetching. A failed fetch
    still counts for the rate limit, so a Saleor that is down is not asked again at once.
    """
    failure: JWKSUnavailable | None = None
    with transaction.atomic():
        row = Tenant.objects.select_for_update().only("jwks", "jwks_fetched_at").get(pk=tenant.pk)
        now = timezone.now()
        window = now - timedelta(seconds=crm_settings.JWKS_REFETCH_SECONDS)
        if row.jwks_fetched_at is not None and row.jwks_fetched_at >= window:
            fresh = row.jwks != tenant.jwks
            tenant.jwks, tenant.jwks_fetched_at = row.jwks, row.jwks_fetched_at
            return fresh
        try:
            jwks = _fetch(tenant)
        except JWKSUnavailable as exc:
            failure = exc
        else:
            tenant.jwks = jwks
            row.jwks = jwks
        tenant.jwks_fetched_at = row.jwks_fetched_at = now
        row.save(update_fields=["jwks", "jwks_fetched_at"])
    if failure is not None:
        raise failure
    return True


def signing_key(tenant: Tenant, kid: str, *, refetch: bool = True) -> Any | None:
    """The public key for ``kid``, refetching the JWKS (rate-limited) when it is unknown and
    ``refetch`` allows it (it reads the database and may call Saleor)."""
    key = key_from_jwks(tenant.jwks or {}, kid)
    if key is None and refetch and _refetch(tenant):
        key = key_from_jwks(tenant.jwks, kid)
    return key

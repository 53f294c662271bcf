"""Turning a request's ``Authorization`` header into a ``Principal``.

Staff and customers sign in to Saleor, not to us: their access tokens are JWTs Saleor signs with
the keys in its JWKS, which we already cache per tenant for webhooks. The token's issuer names
the Saleor (the tenant); its ``permissions`` claim carries Saleor's permission names. A staff
member's own token has no such claim; inside Saleor (plugin mode) they are read from Saleor's
database, as Saleor itself does.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
from django.core.cache import cache

from ..tenants.host import host_saleor_keys, host_staff_permissions
from ..tenants.jwks import JWKSUnavailable, key_from_jwks, signing_key
from ..tenants.models import Tenant
from ..tenants.saleor_api import SaleorUnavailable, TokenRejected, app_permissions
from ..tenants.services import PLUGIN_TENANT_URL, recent_tenant_for_api_url
from .core.errors import CRMGraphQLError
from .core.principal import ANONYMOUS, Principal, PrincipalKind

# "access" tokens come from tokenCreate; "thirdparty" ones are what Saleor gives an app acting for
# a staff member (dashboard extensions), with the permissions both share.
ACCEPTED_TYPES = ("access", "thirdparty")


class InvalidToken(CRMGraphQLError):
    code = "JSONWebTokenError"


def _tenant_for_issuer(issuer: str) -> Tenant | None:
    # Remembered for a few seconds, as the webhook door does: every request names its store,
    # and reading the row was a sixth of a minimal query's time. An unknown key still reads
    # the row (``signing_key``'s refetch) before a token is refused.
    tenant = recent_tenant_for_api_url(issuer) if issuer else None
    if tenant is None and issuer:
        # Saleor's issuer is its API URL; some set-ups put the bare domain there.
        tenant = Tenant.objects.filter(
            saleor_api_url__startswith=issuer.rstrip("/") + "/", is_active=True
        ).first()
    return tenant


def principal_from_jwt(token: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
        unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken("Invalid token.") from exc
    if header.get("alg") != "RS256":
        raise InvalidToken("Invalid token.")
    issuer = str(unverified.get("iss") or "")
    kid = str(header.get("kid") or "")
    tenant = _tenant_for_issuer(issuer)
    host = host_saleor_keys() if tenant is None else None
    if host is not None and host[0] == issuer:
        # The in-process plugin: the token is our host Saleor's own; its keys are at hand.
        tenant = recent_tenant_for_api_url(PLUGIN_TENANT_URL)
    if tenant is None:
        raise InvalidToken("The token was not issued by a Saleor that installed the CRM.")
    try:
        key = key_from_jwks(host[1], kid) if host is not None else signing_key(tenant, kid)
    except JWKSUnavailable as exc:
        raise InvalidToken("Saleor's signing keys are unavailable; try again.") from exc
    if key is None:
        raise InvalidToken("Invalid token.")
    try:
        claims = jwt.decode(token, key, algorithms=["RS256"], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("Signature has expired.", code="ExpiredSignatureError") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("Invalid token.") from exc
    if claims.get("type") not in ACCEPTED_TYPES or not claims.get("user_id"):
        raise InvalidToken("Only access tokens are accepted.")
    staff = bool(claims.get("is_staff")) or bool(claims.get("permissions"))
    permissions = frozenset(claims.get("permissions") or []) if staff else frozenset()
    if staff and host is not None and "permissions" not in claims:
        # The host Saleor's own staff token: its permissions are in Saleor's database.
        permissions = host_staff_permissions(str(claims["user_id"])) or frozenset()
    return Principal(
        kind=PrincipalKind.STAFF if staff else PrincipalKind.CUSTOMER,
        tenant=tenant,
        user_id=str(claims["user_id"]),
        email=str(claims.get("email") or ""),
        permissions=permissions,
    )


APP_TOKEN_CACHE_SECONDS = 300


def principal_from_app_token(token: str, api_url: str) -> Principal:
    """A Saleor app calling server-to-server: its token is opaque, so we ask that Saleor.

    The answer is cached for a few minutes under a hash of the token (never the token itself),
    so a busy integration does not turn every query into a call to Saleor.
    """
    tenant = recent_tenant_for_api_url(api_url) if api_url else None
    if tenant is None:
        raise InvalidToken("Send Saleor-Api-Url with an app token: which Saleor issued it?")
    key = "crm:app-token:" + hashlib.sha256(f"{tenant.pk}:{token}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        try:
            _app_id, permissions = app_permissions(tenant.saleor_api_url, token)
        except TokenRejected as exc:
            raise InvalidToken("Saleor does not recognise this app token.") from exc
        except SaleorUnavailable as exc:
            raise InvalidToken("Saleor could not confirm the app token; try again.") from exc
        cached = sorted(permissions)
        cache.set(key, cached, APP_TOKEN_CACHE_SECONDS)
    return Principal(kind=PrincipalKind.APP, tenant=tenant, permissions=frozenset(cached))


def principal_from_header(value: str, api_url: str = "") -> Principal:
    """Anonymous without a header; raises ``InvalidToken`` for a token we cannot accept."""
    if not value:
        return ANONYMOUS
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "jwt") or not token:
        raise InvalidToken("Use 'Authorization: Bearer <token>'.")
    if token.count(".") == 2:
        return principal_from_jwt(token)
    return principal_from_app_token(token, api_url)

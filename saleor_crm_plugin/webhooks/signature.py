"""Verifying ``Saleor-Signature``: a JWS (RS256, detached, unencoded payload) over the raw body."""

from __future__ import annotations

import jwt

from ..tenants.jwks import JWKSUnavailable, signing_key
from ..tenants.models import Tenant

__all__ = ["JWKSUnavailable", "SignatureError", "verify_signature"]


class SignatureError(Exception):
    """The delivery is not from this Saleor: answer 401 and keep nothing."""


def verify_signature(tenant: Tenant, signature: str, body: bytes, *, refetch: bool = True) -> None:
    """Raise ``SignatureError`` unless ``signature`` is Saleor's RS256 JWS over ``body``.

    With ``refetch=False`` an unknown ``kid`` is refused without asking Saleor: for a caller
    that will check again the slow way before refusing anyone."""
    if not signature:
        raise SignatureError("missing Saleor-Signature header")
    try:
        header = jwt.get_unverified_header(signature)
    except jwt.PyJWTError as exc:
        raise SignatureError("signature is not a JWS") from exc
    if header.get("alg") != "RS256":
        raise SignatureError(f"algorithm {header.get('alg')!r} is not accepted")
    key = signing_key(tenant, str(header.get("kid") or ""), refetch=refetch)
    if key is None:
        raise SignatureError("unknown signing key")
    try:
        jwt.api_jws.decode_complete(signature, key, algorithms=["RS256"], detached_payload=body)
    except jwt.PyJWTError as exc:
        raise SignatureError("signature does not match the body") from exc

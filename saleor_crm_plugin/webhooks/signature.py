"""Verifying ``Saleor-Signature``: a JWS (RS256, detached, unencoded payload) over the raw body.

Saleor signs its access and refresh tokens with the same RSA key as its webhooks (one JWKS for
both). A general JWS check (PyJWT's ``decode_complete`` with a detached payload) accepts a token
that carries its own payload, and then verifies that payload instead of the body: any shopper's
access token would have passed as the signature of a body of their choosing. So only Saleor's
webhook form passes here, checked by hand: protected header with ``alg`` RS256 and ``b64``
false declared critical (RFC 7797), an empty payload segment, and the signature over
``protected || "." || body``. It is also cheaper: the protected header, the same for every
delivery a key signs, is parsed once.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..tenants.jwks import JWKSUnavailable, signing_key
from ..tenants.models import Tenant

__all__ = ["JWKSUnavailable", "SignatureError", "verify_signature"]

# The critical header parameters this check understands (RFC 7515 4.1.11: refuse the rest).
_UNDERSTOOD_CRIT = frozenset({"b64"})


class SignatureError(Exception):
    """The delivery is not from this Saleor: answer 401 and keep nothing."""


def _b64decode(segment: str) -> bytes:
    """Strict base64url: a character outside the alphabet is an error, not skipped."""
    try:
        return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signature is not a JWS") from exc


@functools.lru_cache(maxsize=64)
def _signing_kid(protected: str) -> str:
    """The ``kid`` of a protected header in Saleor's webhook form; raises ``SignatureError``
    for any other header. Cached: every delivery a key signs carries the same header."""
    try:
        header = json.loads(_b64decode(protected))
    except ValueError as exc:
        raise SignatureError("signature is not a JWS") from exc
    if not isinstance(header, dict):
        raise SignatureError("signature is not a JWS")
    if header.get("alg") != "RS256":
        raise SignatureError(f"algorithm {header.get('alg')!r} is not accepted")
    crit = header.get("crit")
    if header.get("b64") is not False or not isinstance(crit, list) or "b64" not in crit:
        raise SignatureError("not a webhook signature: the body must be signed detached")
    if any(not isinstance(name, str) or name not in _UNDERSTOOD_CRIT for name in crit):
        raise SignatureError("signature has a critical header this check does not understand")
    kid = header.get("kid", "")
    if not isinstance(kid, str):
        raise SignatureError("signature is not a JWS")
    return kid


def verify_signature(tenant: Tenant, signature: str, body: bytes, *, refetch: bool = True) -> None:
    """Raise ``SignatureError`` unless ``signature`` is Saleor's RS256 JWS over ``body``.

    With ``refetch=False`` an unknown ``kid`` is refused without asking Saleor: for a caller
    that will check again the slow way before refusing anyone."""
    if not signature:
        raise SignatureError("missing Saleor-Signature header")
    parts = signature.split(".")
    if len(parts) != 3:
        raise SignatureError("signature is not a JWS")
    protected, payload, encoded = parts
    kid = _signing_kid(protected)
    if payload:
        raise SignatureError("not a webhook signature: it carries its own payload")
    key = signing_key(tenant, kid, refetch=refetch)
    if key is None:
        raise SignatureError("unknown signing key")
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("the signing key is not an RSA key")
    try:
        key.verify(
            _b64decode(encoded),
            protected.encode("ascii") + b"." + body,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature as exc:
        raise SignatureError("signature does not match the body") from exc

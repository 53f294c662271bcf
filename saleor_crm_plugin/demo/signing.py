"""Signing deliveries the way Saleor does: JWS RS256, detached and unencoded payload."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class DemoSigner:
    """Plays Saleor's signing key: its public half is the JWKS the CRM verifies against."""

    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key())
        )
        return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}

    @property
    def kid(self) -> str:
        """RFC 7638 thumbprint, as Saleor uses for its ``kid``."""
        canonical = json.dumps(self.public_jwk, separators=(",", ":"), sort_keys=True).encode()
        return _b64(hashlib.sha256(canonical).digest())

    def jwks(self) -> dict[str, Any]:
        key = {
            **self.public_jwk,
            "key_ops": ["verify"],
            "use": "sig",
            "kid": self.kid,
            "alg": "RS256",
        }
        return {"keys": [key]}

    def sign(self, body: bytes) -> str:
        return jwt.api_jws.encode(
            body,
            self.private_key,
            algorithm="RS256",
            headers={"kid": self.kid, "b64": False, "crit": ["b64"], "typ": "JWT"},
            is_payload_detached=True,
        )

    def headers(self, event: str, body: bytes, api_url: str) -> dict[str, str]:
        domain = api_url.split("//", 1)[-1].split("/", 1)[0]
        signature = self.sign(body)
        return {
            "User-Agent": "Saleor/3.24",
            "Content-Type": "application/json",
            "X-Saleor-Event": event,
            "X-Saleor-Domain": domain,
            "X-Saleor-Signature": signature,
            "Saleor-Event": event,
            "Saleor-Domain": domain,
            "Saleor-Signature": signature,
            "Saleor-Api-Url": api_url,
        }

    def access_token(self, api_url: str, *, user_id: str, permissions: list[str], ttl: int) -> str:
        """A staff access token as the demo Saleor would issue, for trying the GraphQL API."""
        import time

        now = int(time.time())
        claims = {
            "iat": now,
            "exp": now + ttl,
            "iss": api_url,
            "owner": "saleor",
            "type": "access",
            "user_id": user_id,
            "email": "staff@demo-saleor.localhost",
            "is_staff": True,
            "permissions": permissions,
            "token": "demo",
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from saleor_crm_plugin.inbox.services import accept, drain
from tests import recordings

ANNA = "VXNlcjo0Ng=="
YUKI = "VXNlcjo0OA=="


@dataclass
class Issuer:
    """Stands for Saleor's token signing: a real RSA key whose public half is the tenant's JWKS."""

    key: rsa.RSAPrivateKey
    kid: str
    iss: str

    def token(
        self,
        *,
        user_id: str,
        staff: bool = False,
        permissions: tuple[str, ...] = (),
        email: str = "",
        ttl: int = 300,
        **overrides: object,
    ) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "iat": now,
            "exp": now + ttl,
            "iss": self.iss,
            "owner": "saleor",
            "type": "access",
            "user_id": user_id,
            "email": email,
            "is_staff": staff,
            "token": "jti",
        }
        if staff:
            claims["permissions"] = list(permissions)
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def issuer(tenant, signing_key) -> Issuer:
    key = signing_key
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    kid = "test-signing-key"
    tenant.jwks = {
        "keys": [*recordings.jwks()["keys"], {**public, "kid": kid, "use": "sig", "alg": "RS256"}]
    }
    tenant.save(update_fields=["jwks"])
    return Issuer(key=key, kid=kid, iss=recordings.API_URL)


@pytest.fixture
def store(tenant, rates):
    """The recorded store, applied to profiles."""
    for item in recordings.deliveries():
        accept(tenant, event=item.event, body=item.body, headers={})
    drain()
    return tenant


class GraphQL:
    def __init__(self) -> None:
        self.client = Client()

    def __call__(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = self.client.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def gql() -> GraphQL:
    return GraphQL()

"""What counts as Saleor's signature over a body, whichever door checks it.

Saleor signs webhooks with the same RSA key that signs its access tokens (one JWKS for both).
So a signature is only Saleor's word on *this* body when it is the detached, unencoded form
(RFC 7797: ``b64`` false, critical) over exactly these bytes: an access token, refresh token
or any other JWS the key produced must never pass for one.
"""

from __future__ import annotations

import base64
import json

import jwt
import pytest
import requests

from saleor_crm_plugin.models import Delivery
from saleor_crm_plugin.webhooks.signature import SignatureError, verify_signature
from tests import recordings

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"order": {"id": "T3JkZXI6MQ==", "total": {"gross": {"amount": 10000.0}}}}'


@pytest.fixture
def keyed(tenant, signing_key):
    """The tenant with our own key in its JWKS, so the test can sign what Saleor would."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    tenant.jwks = {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}
    tenant.save(update_fields=["jwks"])
    return tenant


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _header(**fields: object) -> str:
    return _b64(json.dumps({"b64": False, "crit": ["b64"], **fields}).encode())


def detached(signing_key, body: bytes, **header: object) -> str:
    return jwt.api_jws.encode(
        body,
        signing_key,
        algorithm="RS256",
        headers={"kid": "k1", "b64": False, "crit": ["b64"], **header},
        is_payload_detached=True,
    )


def test_saleors_detached_signature_verifies(keyed, signing_key):
    verify_signature(keyed, detached(signing_key, BODY), BODY)


def test_the_same_signature_over_other_bytes_is_refused(keyed, signing_key):
    with pytest.raises(SignatureError):
        verify_signature(keyed, detached(signing_key, BODY), BODY.replace(b"10000", b"10"))


def test_an_access_token_signed_by_the_same_key_is_not_a_signature(keyed, signing_key):
    """A shopper holds a JWT signed by Saleor's key (its access token). Sent as the signature
    of a body it chose, it must be refused: it says nothing about that body."""
    token = jwt.encode(
        {"token": "x", "email": "shopper@example.com", "type": "access", "user_id": "VXNlcjox"},
        signing_key,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(SignatureError):
        verify_signature(keyed, token, BODY)


def test_an_attached_payload_is_refused_even_when_it_is_the_body(keyed, signing_key):
    """Saleor never sends the body inside the signature; a JWS carrying one is not its form."""
    token = jwt.api_jws.encode(BODY, signing_key, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(SignatureError):
        verify_signature(keyed, token, BODY)


def test_unencoded_payload_must_be_declared_critical(keyed, signing_key):
    header = {"alg": "RS256", "kid": "k1", "b64": False}
    protected = _b64(json.dumps(header).encode())
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    sig = signing_key.sign(protected.encode() + b"." + BODY, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(SignatureError):
        verify_signature(keyed, f"{protected}..{_b64(sig)}", BODY)


def test_an_unknown_critical_extension_is_refused(keyed, signing_key):
    header = {"alg": "RS256", "kid": "k1", "b64": False, "crit": ["b64", "exp"], "exp": 1}
    protected = _b64(json.dumps(header).encode())
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    sig = signing_key.sign(protected.encode() + b"." + BODY, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(SignatureError):
        verify_signature(keyed, f"{protected}..{_b64(sig)}", BODY)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!..abc",
        f"{_b64(b'not json')}..{_b64(b'x')}",
        f"{_b64(b'[1, 2]')}..{_b64(b'x')}",
        f"{_header(alg='RS256', kid=7)}..x",
        f"{_header(alg='none', kid='k1')}..",
        f"{_header(alg='RS256', kid='k1')}..%%%",
    ],
    ids=[
        "empty",
        "two-segments",
        "four-segments",
        "bad-base64",
        "header-not-json",
        "header-not-object",
        "kid-not-text",
        "alg-none",
        "signature-not-base64",
    ],
)
def test_malformed_signatures_are_refused_not_crashed(keyed, signature):
    with pytest.raises(SignatureError):
        verify_signature(keyed, signature, BODY)


def test_an_access_token_as_signature_is_refused_at_the_door(live_server, keyed, signing_key):
    token = jwt.encode({"type": "access"}, signing_key, algorithm="RS256", headers={"kid": "k1"})
    response = requests.post(
        f"{live_server.url}/api/webhooks",
        data=BODY,
        headers={
            "Content-Type": "application/json",
            "Saleor-Event": "order_created",
            "Saleor-Api-Url": recordings.API_URL,
            "Saleor-Signature": token,
        },
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert Delivery.objects.count() == 0

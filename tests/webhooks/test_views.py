"""The webhook door refuses what is not Saleor's and keeps what is, with the right status."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_crm_plugin.models import Delivery
from tests import recordings
from tests.dbfaults import table_locked
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.django_db(transaction=True)

ORDER = 10  # 010-order_created


def post(live_server, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{live_server.url}/api/webhooks", data=body, headers=headers, timeout=10)


def recorded(seq: int = ORDER) -> tuple[bytes, dict[str, str]]:
    item = recordings.delivery(seq)
    return item.body, recordings.request_headers(item)


def with_signature(headers: dict[str, str], signature: str) -> dict[str, str]:
    return {**headers, "Saleor-Signature": signature, "X-Saleor-Signature": signature}


def test_genuine_delivery_is_stored_once(live_server, tenant, rates):
    body, headers = recorded()
    first = post(live_server, body, headers)
    second = post(live_server, body, headers)
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (second.status_code, second.json()["duplicate"]) == (200, True)
    assert Delivery.objects.count() == 1


def test_deliveries_arriving_together_before_the_keys_are_fetched_are_all_accepted(
    live_server, tenant, rates
):
    """A store's first deliveries, sent at once while its JWKS is not fetched yet: one request
    fetches the keys, the others wait for them; none is refused as forged (Saleor would not
    send a 401 again). Saleor's JWKS answers slowly here, as a busy Saleor does."""

    def slow_jwks(request):
        time.sleep(0.5)
        return 200, recordings.jwks()

    saleor = LoopbackServer(slow_jwks)
    try:
        tenant.jwks_url = f"{saleor.base_url}/.well-known/jwks.json"
        tenant.save(update_fields=["jwks_url"])
        items = recordings.deliveries()[:6]
        with ThreadPoolExecutor(max_workers=len(items)) as senders:
            statuses = list(
                senders.map(
                    lambda i: post(live_server, i.body, recordings.request_headers(i)).status_code,
                    items,
                )
            )
    finally:
        saleor.close()
    assert statuses == [200] * len(items)
    assert len(saleor.requests) == 1
    assert Delivery.objects.count() == len(items)


def test_tampered_body_is_refused_and_nothing_stored(live_server, tenant):
    body, headers = recorded()
    tampered = body.replace(b'"amount": 103.81', b'"amount": 1.81', 1)
    assert tampered != body
    response = post(live_server, tampered, headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert Delivery.objects.count() == 0


def test_unknown_kid_refetches_jwks_at_most_once_a_minute(live_server, tenant, jwks_server):
    body, headers = recorded()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.api_jws.encode(
        body,
        key,
        algorithm="RS256",
        headers={"kid": "forged-kid", "b64": False, "crit": ["b64"]},
        is_payload_detached=True,
    )
    responses = [post(live_server, body, with_signature(headers, forged)) for _ in range(5)]
    assert [r.status_code for r in responses] == [401] * 5
    # One fetch for the first unknown kid; the others fall inside the one-minute window.
    assert jwks_server.hits == 1
    assert Delivery.objects.count() == 0
    # The genuine signature still verifies from the cached JWKS, without another fetch.
    assert post(live_server, body, headers).status_code == 200
    assert jwks_server.hits == 1


def test_hs256_signed_with_the_public_key_is_refused(live_server, tenant):
    body, headers = recorded()
    public = json.dumps(recordings.jwks()["keys"][0]).encode()
    header = {
        "alg": "HS256",
        "b64": False,
        "crit": ["b64"],
        "kid": recordings.jwks()["keys"][0]["kid"],
    }
    protected = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    import hashlib
    import hmac

    mac = hmac.new(public, protected.encode() + b"." + body, hashlib.sha256).digest()
    forged = f"{protected}..{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    response = post(live_server, body, with_signature(headers, forged))
    assert response.status_code == 401
    assert "algorithm" in response.json()["error"]["message"]
    assert Delivery.objects.count() == 0


def test_missing_or_garbage_signature_is_refused(live_server, tenant):
    body, headers = recorded()
    no_sig = {k: v for k, v in headers.items() if "Signature" not in k}
    assert post(live_server, body, no_sig).status_code == 401
    assert post(live_server, body, with_signature(headers, "not-a-jws")).status_code == 401
    assert Delivery.objects.count() == 0


def test_malformed_body_with_forged_signature_is_refused(live_server, tenant):
    _, headers = recorded()
    response = post(live_server, b'{"order": {"id": ', headers)
    assert response.status_code == 401
    assert Delivery.objects.count() == 0


def test_oversized_body_is_refused_before_reading_it(live_server, tenant, settings):
    settings.CRM_MAX_WEBHOOK_BODY_BYTES = 1024
    body, headers = recorded()
    assert len(body) > 1024
    response = post(live_server, body, headers)
    assert response.status_code == 413
    assert Delivery.objects.count() == 0


def test_unknown_saleor_is_refused(live_server, tenant):
    body, headers = recorded()
    other = {**headers, "Saleor-Api-Url": "https://other.example.com/graphql/"}
    response = post(live_server, body, other)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNKNOWN_SALEOR"
    assert Delivery.objects.count() == 0


def test_missing_event_header_is_a_bad_request(live_server, tenant):
    body, headers = recorded()
    stripped = {k: v for k, v in headers.items() if not k.lower().endswith("saleor-event")}
    assert post(live_server, body, stripped).status_code == 400


def test_database_busy_answers_503_then_the_retry_is_stored(live_server, tenant, rates, settings):
    """Saleor never retries after a 4xx, so a database that cannot take the row now is a 503."""
    settings.CRM_WEBHOOK_DB_TIMEOUT_MS = 300
    body, headers = recorded()
    with table_locked():
        response = post(live_server, body, headers)
        assert response.status_code == 503
    assert Delivery.objects.count() == 0
    retried = post(live_server, body, headers)
    assert retried.status_code == 200
    assert Delivery.objects.get().state == "processed"


def test_manifest_is_served_with_urls_saleor_can_reach(live_server, db):
    manifest = requests.get(f"{live_server.url}/api/manifest", timeout=10).json()
    assert manifest["tokenTargetUrl"] == f"{live_server.url}/api/register"
    assert {w["targetUrl"] for w in manifest["webhooks"]} == {f"{live_server.url}/api/webhooks"}
    assert "MANAGE_ORDERS" in manifest["permissions"]


def test_manifest_uses_the_public_url_when_set(live_server, db, settings):
    settings.CRM_PUBLIC_URL = "https://crm.example.com/"
    manifest = requests.get(f"{live_server.url}/api/manifest", timeout=10).json()
    assert manifest["tokenTargetUrl"] == "https://crm.example.com/api/register"


def test_keys_rotated_by_another_process_are_used_while_the_tenant_is_remembered(
    live_server, tenant, rates
):
    """Each server process remembers its tenants for a few seconds; when another process has
    already fetched Saleor's new keys (so this one may not fetch again yet), a delivery signed
    with the new key must still be stored: a 401 is final for Saleor."""
    from django.utils import timezone

    from saleor_crm_plugin.tenants.models import Tenant

    body, headers = recorded()
    assert post(live_server, body, headers).status_code == 200  # the tenant is now remembered
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "rotated", "use": "sig", "alg": "RS256"})
    # What another process's refetch leaves behind: new keys, fetched just now.
    Tenant.objects.filter(pk=tenant.pk).update(
        jwks={"keys": [public]}, jwks_fetched_at=timezone.now()
    )
    newer = body + b"\n"
    signature = jwt.api_jws.encode(
        newer,
        key,
        algorithm="RS256",
        headers={"kid": "rotated", "b64": False, "crit": ["b64"]},
        is_payload_detached=True,
    )
    response = post(live_server, newer, with_signature(headers, signature))
    assert response.status_code == 200, response.text
    assert Delivery.objects.count() == 2

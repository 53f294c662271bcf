"""``/metrics`` counts what an operator must see: deliveries in and refused, lag, messages."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.messaging import services as messaging
from saleor_crm_plugin.messaging.models import Purpose
from saleor_crm_plugin.models import Delivery
from saleor_crm_plugin.plugin.door import public_page
from tests import recordings
from tests.messaging.conftest import cart, make_profile
from tests.ops.prometheus import parse, value

pytestmark = pytest.mark.django_db

ORDER = 10  # 010-order_created
REJECTED = "crm_webhook_deliveries_rejected_total"


def post(client, body: bytes, headers: dict[str, str]):
    return client.post("/api/webhooks", data=body, content_type="application/json", headers=headers)


def scrape(client, **headers: str):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.content.decode())


def test_deliveries_accepted_and_rejected_by_reason(client, tenant, settings):
    item = recordings.delivery(ORDER)
    body, headers = item.body, recordings.request_headers(item)
    assert post(client, body, headers).status_code == 200
    assert post(client, body, headers).json()["duplicate"] is True  # not counted twice
    tampered = body.replace(b'"amount": 103.81', b'"amount": 1.81', 1)
    assert post(client, tampered, headers).status_code == 401
    assert post(client, tampered, headers).status_code == 401
    stranger = {**headers, "Saleor-Api-Url": "https://elsewhere.example/graphql/"}
    assert post(client, body, stranger).status_code == 401
    no_event = {k: v for k, v in headers.items() if k != "Saleor-Event"}
    assert post(client, body, no_event).status_code == 400
    settings.CRM_MAX_WEBHOOK_BODY_BYTES = 100
    assert post(client, body, headers).status_code == 413

    types, samples = scrape(client)

    assert types["crm_webhook_deliveries_accepted_total"] == "counter"
    event = headers["Saleor-Event"].lower()
    assert (
        value(samples, "crm_webhook_deliveries_accepted_total", source="webhook", event=event) == 1
    )
    assert value(samples, REJECTED, source="saleor", reason="signature") == 2
    assert value(samples, REJECTED, source="saleor", reason="unknown_tenant") == 1
    assert value(samples, REJECTED, source="saleor", reason="malformed") == 1
    assert value(samples, REJECTED, source="saleor", reason="oversized") == 1
    # The delivery is stored but not applied yet (no commit in this test): it is the lag.
    assert value(samples, "crm_inbox_pending") == 1
    assert value(samples, "crm_inbox_oldest_pending_seconds") >= 0
    assert types["crm_task_failures_total"] == "counter"  # announced before the first failure


def test_failed_deliveries_and_messages_by_status_and_reason(client, tenant, rates):
    item = recordings.delivery(ORDER)
    assert post(client, item.body, recordings.request_headers(item)).status_code == 200
    broken = b'{"not": "an order"}'
    accept(tenant, event="order_created", body=broken, headers={})
    drain()
    profile = make_profile(tenant, email="kim.berg@example.se")
    for step in (1, 2):
        messaging.enqueue(
            profile,
            "abandoned_checkout",
            purpose=Purpose.MARKETING,
            dedupe_key=f"checkout-9:step-{step}",
            data=cart(),
        )

    _, samples = scrape(client)

    failed = Delivery.objects.get(body=broken)
    assert value(samples, "crm_inbox_failed", code=failed.error_code) == 1
    assert value(samples, "crm_inbox_pending") == 0
    skipped = {
        "channel": "email",
        "kind": "abandoned_checkout",
        "status": "skipped",
        "reason": "no_consent",
    }
    assert value(samples, "crm_messages", **skipped) == 2


def test_a_configured_token_is_required(client, settings):
    settings.CRM_METRICS_TOKEN = "s3cret-scrape"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "s3cret-scrape"}).status_code == 401
    scrape(client, Authorization="Bearer s3cret-scrape")


def test_served_under_the_plugin_route_too(settings):
    settings.CRM_METRICS_TOKEN = "plugin-token"
    factory = RequestFactory()
    refused = public_page(factory.get("/plugins/saleor.crm/metrics"), "metrics")
    assert refused.status_code == 401
    request = factory.get(
        "/plugins/saleor.crm/metrics", headers={"Authorization": "Bearer plugin-token"}
    )
    response = public_page(request, "metrics/")
    assert response.status_code == 200
    types, _ = parse(response.content.decode())
    assert types["crm_inbox_pending"] == "gauge"


def test_other_doors_count_their_rejections_under_their_source(client, tenant):
    event = b'{"id": "evt_1", "type": "charge.refunded", "created": 1, "data": {"object": {}}}'
    unknown = client.post(
        "/api/stripe/999999/webhooks", data=event, content_type="application/json"
    )
    unsigned = client.post(
        f"/api/stripe/{tenant.pk}/webhooks", data=event, content_type="application/json"
    )
    assert (unknown.status_code, unsigned.status_code) == (404, 400)
    twilio = client.post(f"/api/twilio/{tenant.pk}/sms", data={"Body": "STOP"})
    assert twilio.status_code == 403

    _, samples = scrape(client)

    assert value(samples, REJECTED, source="stripe", reason="unknown_tenant") == 1
    assert value(samples, REJECTED, source="stripe", reason="not_configured") == 1
    assert value(samples, REJECTED, source="twilio", reason="signature") == 1
    assert value(samples, REJECTED, source="saleor", reason="signature") == 0

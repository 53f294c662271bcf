"""``saleor-crm serve`` behind a reverse proxy: Django sees each shopper's forwarded address.

The async door takes Saleor's webhooks before uvicorn's proxy-header handling (the door never
needs the client's address), so that handling wraps Django itself. What depends on it: the
storefront tracking limit is per client address, and behind a proxy every shopper would
otherwise share the proxy's one address and one limit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from saleor_crm_plugin.tracking.services import MAX_BATCH, PER_IP_PER_MINUTE
from tests import recordings
from tests.reliability.harness import database_url, server

pytestmark = pytest.mark.django_db(transaction=True)

TRACK = """
mutation($visitor: String!, $events: [CRMTrackEventInput!]!, $api: String) {
  crmTrack(visitorId: $visitor, events: $events, consent: true, saleorApiUrl: $api) {
    accepted } }
"""


def track(graphql: str, visitor: str, forwarded_for: str) -> dict:
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    events = [
        {"clientEventId": f"{visitor}-{i:0>4}", "kind": "PRODUCT_VIEWED", "occurredAt": at}
        for i in range(MAX_BATCH)
    ]
    response = requests.post(
        graphql,
        json={
            "query": TRACK,
            "variables": {"visitor": visitor, "events": events, "api": recordings.API_URL},
        },
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )
    assert response.status_code == 200
    return response.json()


def test_each_forwarded_shopper_has_its_own_tracking_limit(tmp_path, tenant):
    calls = PER_IP_PER_MINUTE // MAX_BATCH
    with server(database_url(), tmp_path / "serve.log", dispatch="eager") as webhooks:
        graphql = webhooks.replace("/api/webhooks", "/graphql/")
        spent = [track(graphql, f"visitor-a{i:0>4}", "198.51.100.7") for i in range(calls)]
        over = track(graphql, "visitor-a-last", "198.51.100.7")
        other = track(graphql, "visitor-b0001", "198.51.100.8")
    assert all(r["data"]["crmTrack"]["accepted"] == MAX_BATCH for r in spent)
    assert over["data"]["crmTrack"] is None
    assert "Too many" in over["errors"][0]["message"]
    assert other["data"]["crmTrack"]["accepted"] == MAX_BATCH

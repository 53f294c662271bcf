"""A signed-in request finds its store without a database read while the process remembers
it, and a store saved as inactive is refused at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.graphql.conftest import ANNA

pytestmark = pytest.mark.django_db

FLOOR = "query { __typename }"


def tenant_reads(captured: CaptureQueriesContext) -> int:
    return sum('FROM "crm_tenant"' in q["sql"] for q in captured.captured_queries)


def test_a_remembered_store_is_not_read_again_for_each_request(gql, store, issuer):
    token = issuer.token(user_id=ANNA)
    with CaptureQueriesContext(connection) as first:
        assert gql(FLOOR, token=token)["data"] == {"__typename": "Query"}
    with CaptureQueriesContext(connection) as second:
        me = gql("{ crmMe { ordersCount } }", token=token)["data"]["crmMe"]
    assert tenant_reads(first) == 1
    assert tenant_reads(second) == 0
    assert me["ordersCount"] == 2


def test_a_store_saved_as_inactive_is_refused_at_once(gql, store, issuer):
    token = issuer.token(user_id=ANNA)
    assert gql("{ crmMe { ordersCount } }", token=token)["data"]["crmMe"]["ordersCount"] == 2
    store.is_active = False
    store.save(update_fields=["is_active"])
    refused = gql("{ crmMe { ordersCount } }", token=token)
    assert refused["data"] is None
    assert "not issued by a Saleor that installed the CRM" in refused["errors"][0]["message"]

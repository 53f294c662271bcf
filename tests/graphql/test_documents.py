"""A query text is parsed and validated once; what every request gets back stays the same."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.graphql.core.documents import DOCUMENTS_REMEMBERED, parsed
from tests.graphql.conftest import ANNA

pytestmark = pytest.mark.django_db

ME = "query { crmMe { ordersCount totalSpent { amount currency } } }"
WRONG = "query { crmMe { ordersCount noSuchField } }"


def test_a_repeated_valid_query_answers_each_caller_with_their_own_data(gql, store, issuer):
    anna = gql(ME, token=issuer.token(user_id=ANNA))
    again = gql(ME, token=issuer.token(user_id=ANNA))
    stranger = gql(ME, token=issuer.token(user_id="VXNlcjo5OTk5OQ=="))
    assert anna == again
    assert anna["data"]["crmMe"]["ordersCount"] > 0
    assert stranger["data"]["crmMe"] != anna["data"]["crmMe"]


def test_an_invalid_query_is_refused_every_time_it_is_sent(gql, store, issuer):
    token = issuer.token(user_id=ANNA)
    answers = [gql(WRONG, token=token) for _ in range(3)]
    for answer in answers:
        assert answer["data"] is None
        assert "noSuchField" in answer["errors"][0]["message"]
    # A valid text after it is not tainted by it.
    assert gql(ME, token=token)["data"]["crmMe"]["ordersCount"] > 0


def test_remembered_documents_are_bounded():
    """Endless distinct queries from a client cost no more memory than a few hundred."""
    for n in range(DOCUMENTS_REMEMBERED + 50):
        parsed(f"query Q{n} {{ __typename }}")
    assert parsed.cache_info().currsize <= DOCUMENTS_REMEMBERED

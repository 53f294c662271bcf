"""crmMe reads the profile and the loyalty standing it shows in one statement, and only what
the query asks for; a page of customers reads its store's tier rules once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.loyalty.tiers import TierRules, apply, save_rules
from tests.graphql.conftest import ANNA
from tests.loyalty.test_tiers import RULES

pytestmark = pytest.mark.django_db

# Fragments, as a storefront's generated client writes them.
ME = """
query { crmMe { ...Standing ... on CRMMe { referral { code } } } }
fragment Standing on CRMMe {
  ordersCount points { available pending } tier { name nextTier missingForNext }
}
"""
STAFF_VIEW = """
query($u: ID) { crmCustomer(userId: $u) { points { available pending } tier { name } } }
"""


def run(query: str, principal: Principal, variables: dict | None = None) -> dict:
    result = schema.execute(query, variable_values=variables, context_value=CRMContext(principal))
    assert result.errors is None, result.errors
    return result.data


@pytest.fixture
def anna(store) -> Principal:
    apply(store, save_rules(store, TierRules.from_data(RULES)))
    return Principal(PrincipalKind.CUSTOMER, store, ANNA, "anna.mueller@example.de")


@pytest.fixture
def staff(store) -> Principal:
    return Principal(
        PrincipalKind.STAFF, store, "VXNlcjoyMQ==", "lena@shop.de", frozenset({"MANAGE_USERS"})
    )


def test_crm_me_shows_what_staff_see_of_the_customer_in_one_read(anna, staff):
    with CaptureQueriesContext(connection) as first:
        me = run(ME, anna)["crmMe"]
    seen = run(STAFF_VIEW, staff, {"u": ANNA})["crmCustomer"]
    assert me["ordersCount"] == 2
    assert me["points"] == seen["points"] == {"available": 0, "pending": 190}
    assert me["tier"] == {"name": "Silver", "nextTier": "Gold", "missingForNext": 25000 - 19109}
    assert seen["tier"]["name"] == "Silver"
    # The referral code is made on the first read and the same ever after.
    assert run(ME, anna)["crmMe"]["referral"] == me["referral"]
    assert len(me["referral"]["code"]) == 8
    # The profile with its tier, code, rules and balance in one statement; the amount still
    # missing for the next tier in one more; the first read also stores the new code.
    with CaptureQueriesContext(connection) as again:
        run(ME, anna)
    assert len(again.captured_queries) == 2
    assert len(first.captured_queries) > len(again.captured_queries)


def test_crm_me_reads_neither_ledger_nor_rules_when_not_asked(anna):
    with CaptureQueriesContext(connection) as asked:
        me = run("{ crmMe { ordersCount referral { code } } }", anna)["crmMe"]
    assert me["ordersCount"] == 2
    read = " ".join(q["sql"] for q in asked.captured_queries)
    assert "crm_points_entry" not in read
    assert "crm_tier_program" not in read


def test_crm_me_of_a_customer_without_a_profile_is_null(store):
    stranger = Principal(PrincipalKind.CUSTOMER, store, "VXNlcjo5OTk5", "nobody@example.com")
    assert run(ME, stranger)["crmMe"] is None


def test_a_page_of_customers_reads_the_tier_rules_once(anna, staff):
    with CaptureQueriesContext(connection) as page:
        edges = run("{ crmCustomers(first: 20) { edges { node { tier { name } } } } }", staff)[
            "crmCustomers"
        ]["edges"]
    assert len(edges) > 3
    assert sum("crm_tier_program" in q["sql"] for q in page.captured_queries) == 1

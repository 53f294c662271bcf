"""Staff read customers, customers read themselves, nobody reads what they should not."""

from __future__ import annotations

import pytest

from tests.graphql.conftest import ANNA, YUKI

pytestmark = pytest.mark.django_db

CUSTOMER = """
query($email: String) { crmCustomer(email: $email) {
  email userId isGuest language country timeZone ordersCount
  totalSpent { amount currency } refunded { amount currency } refundRate
  totalsByCurrency { currency orders total { amount currency } }
  timeline(first: 50) { edges { node { kind } } } } }
"""
ME = "{ crmMe { language country timeZone ordersCount totalSpent { amount currency } } }"


def code(result: dict) -> str:
    return result["errors"][0]["extensions"]["exception"]["code"]


def test_staff_with_manage_users_reads_a_profile_by_email_in_any_case(gql, store, issuer):
    token = issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))
    result = gql(CUSTOMER, {"email": "Anna.Mueller@Example.DE"}, token)
    customer = result["data"]["crmCustomer"]
    assert customer["userId"] == ANNA
    assert customer["totalSpent"] == {"amount": 196.6, "currency": "EUR"}
    assert customer["refunded"] == {"amount": 5.51, "currency": "EUR"}
    assert customer["refundRate"] == 0.028
    assert customer["totalsByCurrency"] == [
        {"currency": "EUR", "orders": 2, "total": {"amount": 196.6, "currency": "EUR"}}
    ]
    assert (customer["language"], customer["country"], customer["timeZone"]) == (
        "en",
        "DE",
        "Europe/Berlin",
    )
    kinds = [edge["node"]["kind"] for edge in customer["timeline"]["edges"]]
    assert kinds.count("crm.order.placed") == 2


@pytest.mark.parametrize(
    "who",
    ["anonymous", "customer", "staff_without_permission"],
)
def test_profiles_are_refused_without_manage_users(gql, store, issuer, who):
    token = {
        "anonymous": None,
        "customer": issuer.token(user_id=ANNA),
        "staff_without_permission": issuer.token(
            user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_ORDERS",)
        ),
    }[who]
    result = gql(CUSTOMER, {"email": "anna.mueller@example.de"}, token)
    assert result["data"]["crmCustomer"] is None
    assert code(result) == "PermissionDenied"
    assert "MANAGE_USERS" in result["errors"][0]["message"]


def test_a_customer_reads_only_their_own_profile(gql, store, issuer):
    anna = gql(ME, token=issuer.token(user_id=ANNA))["data"]["crmMe"]
    yuki = gql(ME, token=issuer.token(user_id=YUKI))["data"]["crmMe"]
    assert anna == {
        "language": "en",
        "country": "DE",
        "timeZone": "Europe/Berlin",
        "ordersCount": 2,
        "totalSpent": {"amount": 196.6, "currency": "EUR"},
    }
    assert yuki["totalSpent"] == {"amount": 97.49, "currency": "EUR"}


def test_crm_me_hides_staff_fields(gql, store, issuer):
    result = gql("{ crmMe { refundRate email } }", token=issuer.token(user_id=ANNA))
    assert "Cannot query field" in result["errors"][0]["message"]


def test_crm_me_needs_a_signed_in_customer(gql, store):
    result = gql(ME)
    assert result["data"]["crmMe"] is None
    assert code(result) == "PermissionDenied"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda i: i.token(user_id=ANNA, ttl=-10), id="expired"),
        pytest.param(
            lambda i: i.token(user_id=ANNA, iss="https://other.example.com/graphql/"),
            id="other-saleor",
        ),
        pytest.param(lambda i: i.token(user_id=ANNA, type="refresh"), id="refresh-token"),
        pytest.param(lambda i: i.token(user_id=ANNA)[:-4] + "AAAA", id="forged-signature"),
        pytest.param(lambda i: "not.a.jwt", id="garbage"),
    ],
)
def test_tokens_we_cannot_trust_are_refused(gql, store, issuer, mutate):
    result = gql(ME, token=mutate(issuer))
    assert result["data"] is None
    assert code(result) in ("JSONWebTokenError", "ExpiredSignatureError")


def test_customers_list_filters_sorts_and_pages(gql, store, issuer):
    token = issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))
    query = """
    query($after: String, $filter: CRMCustomerFilterInput) {
      crmCustomers(first: 2, after: $after, filter: $filter,
                   sortBy: {field: SPENT, direction: DESC}) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { email totalSpent { amount } } } } }
    """
    seen: list[str] = []
    after = None
    while True:
        page = gql(query, {"after": after}, token)["data"]["crmCustomers"]
        assert page["totalCount"] == 8
        seen += [edge["node"]["email"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 8
    assert seen[:3] == ["fahad@example.kw", "anna.mueller@example.de", "yuki.tanaka@example.jp"]

    filtered = gql(
        query,
        {"filter": {"totalSpent": {"gte": 50}, "countries": ["de", "KW"]}},
        token,
    )["data"]["crmCustomers"]
    assert [e["node"]["email"] for e in filtered["edges"]] == [
        "fahad@example.kw",
        "anna.mueller@example.de",
    ]
    assert filtered["totalCount"] == 2


def test_page_size_and_depth_are_capped_with_clear_errors(gql, store, issuer):
    token = issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))
    too_big = gql("{ crmCustomers(first: 1000) { totalCount } }", token=token)
    assert "first must be between 1 and 100" in too_big["errors"][0]["message"]
    bad_cursor = gql('{ crmCustomers(after: "nonsense") { totalCount } }', token=token)
    assert bad_cursor["errors"][0]["message"] == "invalid cursor"


def test_unexpected_failures_never_leak_a_stack_trace(gql, store, issuer, monkeypatch):
    from saleor_crm_plugin.profiles import queries

    def broken(*args, **kwargs):
        raise RuntimeError("/secret/path.py line 3")

    monkeypatch.setattr(queries, "find_profile", broken)
    token = issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))
    result = gql(CUSTOMER, {"email": "anna.mueller@example.de"}, token)
    assert result["errors"][0]["message"] == "Internal Server Error"
    assert "secret" not in str(result)


def test_a_query_that_could_return_too_much_is_refused_before_running(gql, store, issuer):
    token = issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))
    wide = " ".join(
        f"a{i}: crmCustomers(first: 100) {{ edges {{ node {{ email }} }} }}" for i in range(20)
    )
    result = gql("{ " + wide + " }", token=token)
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["exception"]["code"] == "QueryCostError"


def test_a_dashboard_extension_token_carries_the_staff_members_permissions(gql, store, issuer):
    """Saleor gives an app acting for a staff member a "thirdparty" token with permissions."""
    token = issuer.token(
        user_id="VXNlcjoyMQ==",
        staff=True,
        permissions=("MANAGE_USERS",),
        type="thirdparty",
        app="QXBwOjE=",
    )
    result = gql(CUSTOMER, {"email": "anna.mueller@example.de"}, token)
    assert result.get("errors") is None, result
    assert result["data"]["crmCustomer"]["userId"] == ANNA

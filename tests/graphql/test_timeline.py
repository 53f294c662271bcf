"""One customer's timeline as a connection: newest first, page by page, filtered by kind."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.models import Profile, TimelineEntry

pytestmark = pytest.mark.django_db

ANNA_EMAIL = "anna.mueller@example.de"
TIMELINE = """query($first: Int, $after: String, $kinds: [String!]) {
  crmCustomer(email: "anna.mueller@example.de") {
    timeline(first: $first, after: $after, kinds: $kinds) {
      edges { cursor node { kind occurredAt subjectId } }
      pageInfo { hasNextPage endCursor } } } }"""


def staff(issuer) -> str:
    return issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))


def page(gql, token, **variables) -> dict:
    result = gql(TIMELINE, variables, token)
    assert "errors" not in result, result
    return result["data"]["crmCustomer"]["timeline"]


def walk(gql, token, first: int, **variables) -> list[tuple[str, str]]:
    seen, after = [], None
    while True:
        found = page(gql, token, first=first, after=after, **variables)
        assert len(found["edges"]) <= first
        seen += [(e["node"]["kind"], e["node"]["subjectId"]) for e in found["edges"]]
        if not found["pageInfo"]["hasNextPage"]:
            return seen
        after = found["pageInfo"]["endCursor"]


def test_pages_newest_first_cover_the_whole_timeline_once(gql, store, issuer):
    anna = Profile.objects.get(email=ANNA_EMAIL)
    expected = list(
        TimelineEntry.objects.filter(profile=anna)
        .order_by("-occurred_at", "-id")
        .values_list("kind", "subject_id")
    )
    assert len(expected) >= 5
    assert walk(gql, staff(issuer), first=2) == expected
    assert walk(gql, staff(issuer), first=100) == expected


def test_kinds_filter_exact_kinds_and_families(gql, store, issuer):
    token = staff(issuer)
    placed = walk(gql, token, first=1, kinds=["crm.order.placed"])
    assert [kind for kind, _ in placed] == ["crm.order.placed", "crm.order.placed"]
    orders = walk(gql, token, first=3, kinds=["crm.order.*"])
    anna = Profile.objects.get(email=ANNA_EMAIL)
    assert len(orders) == anna.timeline.filter(kind__startswith="crm.order.").count() > 2
    assert {k for k, _ in orders} >= {"crm.order.placed"}
    assert walk(gql, token, first=5, kinds=["crm.case.*"]) == []


def test_a_forged_cursor_is_refused(gql, store, issuer):
    result = gql(TIMELINE, {"first": 2, "after": "bm90LWEtY3Vyc29y"}, staff(issuer))
    assert result["data"]["crmCustomer"] is None
    assert result["errors"][0]["extensions"]["exception"] == {
        "code": "GRAPHQL_ERROR",
        "field": "after",
    }

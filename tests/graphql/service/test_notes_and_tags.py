"""Staff write notes and tags on a customer and find the customer by them."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.models import TimelineEntry
from saleor_crm_plugin.service.models import Note

pytestmark = pytest.mark.django_db

ANNA_EMAIL = "anna.mueller@example.de"
MIA, LI = "VXNlcjoyMQ==", "VXNlcjoyMg=="

ADD_NOTE = """mutation($email: String, $body: String!) {
  crmNoteAdd(email: $email, body: $body) { id body authorUserId authorEmail createdAt } }"""
TAG = """mutation($email: String, $tags: [String!]!) {
  crmCustomerTag(email: $email, tags: $tags) }"""
UNTAG = """mutation($email: String, $tags: [String!]!) {
  crmCustomerUntag(email: $email, tags: $tags) }"""
DELETE = "mutation($id: ID!) { crmNoteDelete(id: $id) }"
CUSTOMER = """query($email: String) { crmCustomer(email: $email) {
  notes { body authorEmail } tags { tag addedByEmail addedAt } } }"""
SEARCH = """query($f: CRMCustomerFilterInput) {
  crmCustomers(first: 50, filter: $f) { totalCount edges { node { email } } } }"""


def staff(issuer, user_id: str, email: str, *extra: str) -> str:
    return issuer.token(
        user_id=user_id, staff=True, permissions=("MANAGE_USERS", *extra), email=email
    )


def found(gql, token, **f) -> list[str]:
    result = gql(SEARCH, {"f": f}, token)
    return [e["node"]["email"] for e in result["data"]["crmCustomers"]["edges"]]


def test_notes_and_tags_round_trip_and_make_the_customer_findable(gql, store, issuer):
    mia = staff(issuer, MIA, "mia@nordwind.example")
    note = gql(ADD_NOTE, {"email": ANNA_EMAIL, "body": "Prefers a call after 18:00."}, mia)
    added = note["data"]["crmNoteAdd"]
    assert (added["body"], added["authorUserId"], added["authorEmail"]) == (
        "Prefers a call after 18:00.",
        MIA,
        "mia@nordwind.example",
    )
    tags = gql(TAG, {"email": ANNA_EMAIL, "tags": ["VIP", "tea lover", "vip"]}, mia)
    assert tags["data"]["crmCustomerTag"] == ["tea lover", "vip"]

    customer = gql(CUSTOMER, {"email": ANNA_EMAIL}, mia)["data"]["crmCustomer"]
    assert customer["notes"] == [
        {"body": "Prefers a call after 18:00.", "authorEmail": "mia@nordwind.example"}
    ]
    assert [(t["tag"], t["addedByEmail"]) for t in customer["tags"]] == [
        ("tea lover", "mia@nordwind.example"),
        ("vip", "mia@nordwind.example"),
    ]
    assert found(gql, mia, search="call after 18") == [ANNA_EMAIL]
    assert found(gql, mia, search="TEA LOV") == [ANNA_EMAIL]
    assert found(gql, mia, tags=["Vip", "wholesale"]) == [ANNA_EMAIL]
    assert found(gql, mia, tags=["wholesale"]) == []

    untagged = gql(UNTAG, {"email": ANNA_EMAIL, "tags": ["VIP"]}, mia)
    assert untagged["data"]["crmCustomerUntag"] == ["tea lover"]
    assert found(gql, mia, tags=["vip"]) == []
    kinds = TimelineEntry.objects.filter(kind__regex=r"^crm\.(note|tag)\.").values_list(
        "kind", flat=True
    )
    assert sorted(kinds) == ["crm.note.added", "crm.tag.added", "crm.tag.added", "crm.tag.removed"]


def test_only_the_author_or_a_staff_manager_deletes_a_note(gql, store, issuer):
    mia = staff(issuer, MIA, "mia@nordwind.example")
    li = staff(issuer, LI, "li@nordwind.example")
    boss = staff(issuer, "VXNlcjoxMA==", "boss@nordwind.example", "MANAGE_STAFF")
    first = gql(ADD_NOTE, {"email": ANNA_EMAIL, "body": "Gift for her mother."}, mia)
    second = gql(ADD_NOTE, {"email": ANNA_EMAIL, "body": "Wants paper invoices."}, mia)
    first_id = first["data"]["crmNoteAdd"]["id"]

    refused = gql(DELETE, {"id": first_id}, li)
    assert refused["data"]["crmNoteDelete"] is None
    assert refused["errors"][0]["extensions"]["exception"]["code"] == "NOT_AUTHOR"
    assert Note.objects.count() == 2

    assert gql(DELETE, {"id": first_id}, mia)["data"]["crmNoteDelete"] == first_id
    second_id = second["data"]["crmNoteAdd"]["id"]
    assert gql(DELETE, {"id": second_id}, boss)["data"]["crmNoteDelete"] == second_id
    assert Note.objects.count() == 0
    assert found(gql, mia, search="paper invoices") == []
    again = gql(DELETE, {"id": first_id}, mia)
    assert again["errors"][0]["extensions"]["exception"]["code"] == "NOT_FOUND"
    deleted = TimelineEntry.objects.filter(kind="crm.note.deleted").order_by("id")
    assert [e.data["by"] for e in deleted] == ["mia@nordwind.example", "boss@nordwind.example"]


def test_an_empty_note_is_refused_and_nothing_is_stored(gql, store, issuer):
    mia = staff(issuer, MIA, "mia@nordwind.example")
    result = gql(ADD_NOTE, {"email": ANNA_EMAIL, "body": "   "}, mia)
    assert result["data"]["crmNoteAdd"] is None
    assert result["errors"][0]["extensions"]["exception"] == {"code": "INVALID", "field": "body"}
    assert Note.objects.count() == 0

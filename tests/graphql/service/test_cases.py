"""A customer asks for help from the storefront; staff see the case with its due time in their
own zone and the customer's, and count cases over a period."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client, override_settings

from saleor_crm_plugin.models import OrderRecord, TimelineEntry
from saleor_crm_plugin.service.models import ServiceCase
from tests.graphql.conftest import ANNA, YUKI

pytestmark = pytest.mark.django_db

ANNA_EMAIL = "anna.mueller@example.de"
STAFF = "VXNlcjoyMQ=="

ME_OPEN = """mutation($orderId: ID) {
  crmMeCaseOpen(type: RETURN, subject: "Cup arrived chipped", description: "See photo",
                orderId: $orderId) {
    id status type orderId dueAt dueAtCustomer { timeZone local } } }"""
CASES = """{ crmCases(statuses: [OPEN]) {
  id subject type status orderId openedBy customer { email }
  dueAt dueAtCustomer { timeZone local } dueAtStaff(timeZone: "America/New_York") { local }
  tokyo: dueAtStaff { timeZone local } } }"""
UPDATE = """mutation($id: ID!) { crmCaseUpdate(id: $id, status: RESOLVED) { status resolvedAt } }"""
STATS = """query($from: DateTime!, $to: DateTime!) { crmCaseStats(from: $from, to: $to) {
  openNow opened resolved medianHoursToResolve openedByType } }"""


def code(result: dict) -> str:
    return result["errors"][0]["extensions"]["exception"]["code"]


def staff_query(issuer, query: str, variables: dict | None = None, zone: str = "") -> dict:
    """As the dashboard sends it: the staff member's zone in the Crm-Time-Zone header."""
    token = issuer.token(user_id=STAFF, staff=True, permissions=("MANAGE_USERS",))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if zone:
        headers["HTTP_CRM_TIME_ZONE"] = zone
    response = Client().post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        **headers,
    )
    return response.json()


def local(iso: str, zone: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).isoformat()


def test_a_storefront_case_reaches_staff_with_the_due_time_in_both_zones(gql, store, issuer):
    order = OrderRecord.objects.filter(profile__user_id=ANNA).order_by("created_at").first()
    anna = issuer.token(user_id=ANNA, email=ANNA_EMAIL)
    before = datetime.now(UTC)
    opened = gql(ME_OPEN, {"orderId": order.order_id}, anna)["data"]["crmMeCaseOpen"]
    assert (opened["status"], opened["type"], opened["orderId"]) == (
        "OPEN",
        "RETURN",
        order.order_id,
    )
    due = datetime.fromisoformat(opened["dueAt"])
    assert before + timedelta(hours=48) <= due <= datetime.now(UTC) + timedelta(hours=48)
    assert opened["dueAtCustomer"] == {
        "timeZone": "Europe/Berlin",
        "local": local(opened["dueAt"], "Europe/Berlin"),
    }

    [case] = staff_query(issuer, CASES, zone="Asia/Tokyo")["data"]["crmCases"]
    assert (case["subject"], case["openedBy"], case["customer"]["email"]) == (
        "Cup arrived chipped",
        "customer",
        ANNA_EMAIL,
    )
    assert case["dueAtCustomer"]["local"].endswith(("+01:00", "+02:00"))  # Berlin
    assert case["dueAtStaff"]["local"] == local(case["dueAt"], "America/New_York")
    assert case["tokyo"] == {"timeZone": "Asia/Tokyo", "local": local(case["dueAt"], "Asia/Tokyo")}
    assert case["tokyo"]["local"].endswith("+09:00")
    assert TimelineEntry.objects.filter(kind="crm.case.opened", subject_id=str(
        ServiceCase.objects.get().pk)).count() == 1  # fmt: skip

    resolved = staff_query(issuer, UPDATE, {"id": case["id"]})["data"]["crmCaseUpdate"]
    assert resolved["status"] == "RESOLVED" and resolved["resolvedAt"]
    assert staff_query(issuer, CASES)["data"]["crmCases"] == []
    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    stats = staff_query(issuer, STATS, period)["data"]["crmCaseStats"]
    assert (stats["openNow"], stats["opened"], stats["resolved"]) == (0, 1, 1)
    assert 0 <= stats["medianHoursToResolve"] < 0.1
    assert json.loads(stats["openedByType"]) == {"return": 1}


def test_a_customer_cannot_link_someone_elses_order(gql, store, issuer):
    yukis = OrderRecord.objects.filter(profile__user_id=YUKI).first()
    anna = issuer.token(user_id=ANNA, email=ANNA_EMAIL)
    result = gql(ME_OPEN, {"orderId": yukis.order_id}, anna)
    assert result["data"]["crmMeCaseOpen"] is None
    assert result["errors"][0]["extensions"]["exception"] == {"code": "INVALID", "field": "orderId"}
    assert ServiceCase.objects.count() == 0


@override_settings(CRM_CASE_CUSTOMER_DAILY_LIMIT=2)
def test_storefront_cases_are_limited_per_customer_and_day(gql, store, issuer):
    anna = issuer.token(user_id=ANNA, email=ANNA_EMAIL)
    for _ in range(2):
        assert gql(ME_OPEN, {}, anna)["data"]["crmMeCaseOpen"]["status"] == "OPEN"
    third = gql(ME_OPEN, {}, anna)
    assert third["data"]["crmMeCaseOpen"] is None and code(third) == "RATE_LIMITED"
    assert ServiceCase.objects.count() == 2
    # Staff are not limited: they open cases for the customer.
    opened = staff_query(
        issuer,
        'mutation { crmCaseOpen(email: "anna.mueller@example.de", type: QUESTION, '
        'subject: "Call back", dueAt: "2026-12-01T09:00:00+01:00") { dueAt openedBy } }',
    )["data"]["crmCaseOpen"]
    assert opened == {"dueAt": "2026-12-01T08:00:00+00:00", "openedBy": "staff"}

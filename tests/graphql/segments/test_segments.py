"""Segments, scores and lifecycle settings through GraphQL, on the hand-built store."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.models import LifecycleSettings, Segment
from saleor_crm_plugin.segments.services import recompute_store
from tests.segments.store import NOW, build_store, day, place

pytestmark = pytest.mark.django_db(transaction=True)

ANN = "VXNlcjo5MDE="


def staff(tenant) -> Principal:
    return Principal(PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "", frozenset({"MANAGE_USERS"}))


def run(principal: Principal, query: str, **variables: Any) -> tuple[Any, list[dict]]:
    context = CRMContext(principal=principal, client_ip="203.0.113.9")
    result = schema.execute(query, variable_values=variables, context_value=context)
    errors = []
    for e in result.errors or []:
        original = getattr(e, "original_error", e)
        errors.append({"message": str(original), "field": getattr(original, "field", None)})
    return result.data, errors


@pytest.fixture
def store(tenant):
    build_store(tenant)
    # ann has an account: her orders carry her Saleor user id.
    for i, d in enumerate((day(11, 1), day(11, 11), day(11, 21))):
        place(tenant, f"ann-{i}", "ann@example.de", 300, d, user_id=ANN, updated_at=day(11, 27))
    recompute_store(tenant, NOW)
    return tenant


def test_staff_see_scores_on_customers(store):
    data, errors = run(
        staff(store),
        "{ crmCustomers(first: 10, sortBy: {field: SPENT, direction: DESC}) { edges { node {"
        " email scores { recency frequency monetary rfmGroup quadrant stage riskFlags"
        " refundRate cancelledOrders } } } } }",
    )
    assert errors == []
    found = {e["node"]["email"]: e["node"]["scores"] for e in data["crmCustomers"]["edges"]}
    assert found["ann@example.de"] == {
        "recency": 4, "frequency": 5, "monetary": 5, "rfmGroup": "champions",
        "quadrant": "high_value_high_activity", "stage": "active", "riskFlags": [],
        "refundRate": 0.0, "cancelledOrders": 0,
    }  # fmt: skip
    assert found["eve@example.de"]["riskFlags"] == ["refunds"]
    assert found["eve@example.de"]["refundRate"] == 0.5
    assert found["fay@example.de"]["rfmGroup"] == "prospects"
    assert found["fay@example.de"]["riskFlags"] == ["cancellations"]


def test_staff_see_a_customers_stage_history(store):
    later = NOW + timedelta(days=14)  # ann is past twice her 10-day gap
    recompute_store(store, later)
    query = (
        "{ crmCustomers(first: 10) { edges { node { email"
        " stageHistory { fromStage toStage changedAt } } } } }"
    )
    data, errors = run(staff(store), query)
    assert errors == []
    found = {e["node"]["email"]: e["node"]["stageHistory"] for e in data["crmCustomers"]["edges"]}
    assert found["ann@example.de"] == [
        {"fromStage": "", "toStage": "active", "changedAt": NOW.isoformat()},
        {"fromStage": "active", "toStage": "at_risk", "changedAt": later.isoformat()},
    ]
    assert found["fay@example.de"] == []  # never a stage: no purchase
    me = Principal(PrincipalKind.CUSTOMER, store, ANN, "ann@example.de")
    _, errors = run(me, "{ crmMe { stageHistory { toStage } } }")
    assert errors and "Cannot query field" in errors[0]["message"]


def test_a_customer_sees_their_stage_and_nothing_of_scores_or_flags(store):
    me = Principal(PrincipalKind.CUSTOMER, store, ANN, "ann@example.de")
    data, errors = run(me, "{ crmMe { ordersCount lifecycleStage } }")
    assert (data, errors) == ({"crmMe": {"ordersCount": 3, "lifecycleStage": "active"}}, [])
    fields = set(schema.get_type("CRMMe").fields)
    assert not fields & {"scores", "riskFlags", "rfmGroup", "quadrant"}
    _, errors = run(me, "{ crmMe { scores { riskFlags } } }")
    assert errors and "Cannot query field" in errors[0]["message"]


def test_save_preview_members_history_and_export(store):
    rules = json.dumps({"all": [{"field": "country", "op": "in", "value": ["DE", "AT"]}]})
    data, errors = run(
        staff(store),
        "query($r: JSONString!) { crmSegmentPreview(rules: $r) { count first { email } } }",
        r=rules,
    )
    assert errors == []
    assert data["crmSegmentPreview"]["count"] == 4  # ann, bob, eve, fay
    assert [m["email"] for m in data["crmSegmentPreview"]["first"]] == [
        "ann@example.de", "eve@example.de", "bob@example.at", "fay@example.de",
    ]  # by spend net of refunds: 900, 500, 400, 0  # fmt: skip
    assert Segment.objects.count() == 0  # a preview saves nothing
    data, errors = run(
        staff(store),
        'mutation($r: JSONString!) { crmSegmentSave(name: "DACH", rules: $r) { id name'
        " membersCount members(first: 2) { email } history { email leftAt } } }",
        r=rules,
    )
    assert errors == []
    saved = data["crmSegmentSave"]
    assert (saved["name"], saved["membersCount"], len(saved["members"])) == ("DACH", 4, 2)
    assert {h["email"] for h in saved["history"]} == {
        "ann@example.de", "bob@example.at", "eve@example.de", "fay@example.de",
    }  # fmt: skip
    data, errors = run(
        staff(store), f'{{ crmSegmentExport(id: "{saved["id"]}") {{ filename csv }} }}'
    )
    assert errors == []
    assert data["crmSegmentExport"]["csv"].count("\n") == 5  # header and four members
    data, errors = run(staff(store), "{ crmSegments { name membersCount } }")
    assert data == {"crmSegments": [{"name": "DACH", "membersCount": 4}]}


def test_bad_rules_are_refused_with_the_reason_and_nothing_is_saved(store):
    rules = json.dumps({"all": [{"field": "country", "op": "gt", "value": "DE"}]})
    data, errors = run(
        staff(store),
        'mutation($r: JSONString!) { crmSegmentSave(name: "Bad", rules: $r) { id } }',
        r=rules,
    )
    assert data == {"crmSegmentSave": None}
    assert errors == [
        {
            "message": "all[0]: 'country' takes the operators eq, ne, in, not_in; got 'gt'.",
            "field": "rules",
        }
    ]
    assert Segment.objects.count() == 0


def test_lifecycle_thresholds_per_store(store):
    query = (
        "mutation($m: String!, $a: String!, $d: String!, $l: String!) {"
        " crmLifecycleSettingsSave(mode: $m, atRiskAfter: $a, dormantAfter: $d, lostAfter: $l)"
        " { mode atRiskAfter dormantAfter lostAfter } }"
    )
    _, errors = run(staff(store), query, m="days", a="180", d="90", l="365")
    assert "growing thresholds" in errors[0]["message"]
    assert LifecycleSettings.objects.count() == 0
    data, errors = run(staff(store), query, m="days", a="30", d="90", l="365")
    assert errors == []
    assert data["crmLifecycleSettingsSave"] == {
        "mode": "days", "atRiskAfter": 30.0, "dormantAfter": 90.0, "lostAfter": 365.0,
    }  # fmt: skip
    recompute_store(store, NOW)
    data, _ = run(staff(store), '{ crmCustomer(email: "bob@example.at") { scores { stage } } }')
    assert data["crmCustomer"]["scores"]["stage"] == "at_risk"  # 58 days > 30

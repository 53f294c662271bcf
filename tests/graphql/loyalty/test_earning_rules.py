"""Staff read and save the store's earning rules through GraphQL; every save is a version."""

from __future__ import annotations

import json

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.errors import format_error
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.loyalty import earning

pytestmark = pytest.mark.django_db

READ = "query($v: Int) { crmEarningRules(version: $v) { version rules createdBy createdAt } }"
SAVE = "mutation($r: JSONString!) { crmEarningRulesSave(rules: $r) { version rules createdBy } }"


def run(tenant, query: str, **variables):
    staff = Principal(
        PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "maria@shop.example",
        frozenset({"MANAGE_USERS"}),
    )  # fmt: skip
    result = schema.execute(query, variable_values=variables, context_value=CRMContext(staff))
    return result.data, [format_error(e) for e in result.errors or []]


def test_staff_see_the_defaults_then_their_own_versions_with_who_saved_them(tenant, settings):
    settings.CRM_LOYALTY_SIGNUP_BONUS = 40
    data, errors = run(tenant, READ)
    assert errors == []
    shown = data["crmEarningRules"]
    assert (shown["version"], shown["createdBy"]) == (None, None)
    assert json.loads(shown["rules"])["signup_bonus"] == 40

    data, errors = run(tenant, SAVE, r=json.dumps({"signup_bonus": 100, "return_days": 30}))
    assert errors == []
    assert data["crmEarningRulesSave"]["version"] == 1
    assert data["crmEarningRulesSave"]["createdBy"] == "maria@shop.example"
    run(tenant, SAVE, r=json.dumps({"points_per_currency": {"jpy": "0.01"}}))

    current = run(tenant, READ)[0]["crmEarningRules"]
    rules = json.loads(current["rules"])
    assert current["version"] == 2
    assert (rules["signup_bonus"], rules["return_days"]) == (100, 30)  # kept from version 1
    assert rules["points_per_currency"] == {"JPY": "0.01"}
    first = json.loads(run(tenant, READ, v=1)[0]["crmEarningRules"]["rules"])
    assert first["points_per_currency"] == {}
    assert earning.rules_for(tenant).signup_bonus == 100


def test_wrong_rules_get_a_merchant_readable_error_on_their_field(tenant):
    data, errors = run(tenant, SAVE, r=json.dumps({"return_days": -3, "point_value": "x"}))
    assert data["crmEarningRulesSave"] is None
    assert len(errors) == 1
    assert "return_days: The number of days cannot be negative." in errors[0]["message"]
    assert "point_value: Give the value of a point as a number" in errors[0]["message"]
    assert errors[0]["extensions"]["exception"]["field"] == "return_days"
    assert run(tenant, READ)[0]["crmEarningRules"]["version"] is None  # nothing saved
    data, errors = run(tenant, READ, v=7)
    assert errors[0]["message"] == "There is no version 7."

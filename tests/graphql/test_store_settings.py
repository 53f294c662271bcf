"""Staff read and change the store's CRM settings through GraphQL (the app door)."""

from __future__ import annotations

import json

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.tenants import store_settings

pytestmark = pytest.mark.django_db

SAVE = "mutation($s: JSONString!) { crmStoreSettingsSave(settings: $s) { name value } }"
READ = "{ crmStoreSettings { name label helpText value } }"


def run(tenant, query: str, **variables):
    staff = Principal(PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "", frozenset({"MANAGE_USERS"}))
    result = schema.execute(query, variable_values=variables, context_value=CRMContext(staff))
    errors = [str(e) for e in result.errors or []]
    return result.data, errors


def test_staff_see_every_setting_with_its_help_and_the_stores_base_currency(tenant):
    data, errors = run(tenant, READ)
    assert errors == []
    values = {s["name"]: s["value"] for s in data["crmStoreSettings"]}
    assert values["base_currency"] == "EUR" and values["recovery_delays_hours"] == "1,24,72"
    assert all(s["label"] and s["helpText"] for s in data["crmStoreSettings"])


def test_saved_settings_are_what_the_tasks_read(tenant):
    change = {
        "recovery_delays_hours": "2,48",
        "channel_settings": json.dumps({"channel-jpy": {"send_window": "10:00-19:00"}}),
    }
    data, errors = run(tenant, SAVE, s=json.dumps(change))
    assert errors == []
    tenant.refresh_from_db()
    kept = store_settings.for_tenant(tenant)
    assert kept.recovery_delays_hours == (2, 48)
    assert kept.for_channel("channel-jpy").send_window == ("10:00", "19:00")
    assert kept.for_channel("channel-eur").send_window == ("09:00", "20:00")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"recovery_delays_hours": "24,1"}, "increasing whole hours"),
        ({"base_currency": "USD"}, "fixed at EUR"),
        ({"sender_adress": "x@y.z"}, "no such setting"),
        ({"channel_settings": "{not json"}, "not valid JSON"),
    ],
)
def test_wrong_settings_are_refused_whole_with_a_clear_message(tenant, change, words):
    run(tenant, SAVE, s=json.dumps({"send_window": "08:00-21:00"}))
    data, errors = run(tenant, SAVE, s=json.dumps({"send_window": "07:00-22:00", **change}))
    assert data == {"crmStoreSettingsSave": None}
    assert words in errors[0]
    tenant.refresh_from_db()
    assert store_settings.for_tenant(tenant).send_window == ("08:00", "21:00")  # nothing changed


def test_in_the_plugin_settings_are_changed_in_saleors_dashboard():
    from saleor_crm_plugin.tenants.services import plugin_tenant

    data, errors = run(plugin_tenant("EUR"), SAVE, s=json.dumps({"send_window": "08:00-21:00"}))
    assert data == {"crmStoreSettingsSave": None} and "Plugins > CRM" in errors[0]

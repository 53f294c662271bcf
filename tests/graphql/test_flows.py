"""crmFlows and crmMessagePreview: the flow editor's data, rendered by the real renderer."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

FLOWS = """{ crmFlows { kind trigger enabled settings
  steps { position hours discount { percentage value days } } } }"""
PREVIEW = """
query($kind: String!, $locale: String!, $step: Int, $email: String) {
  crmMessagePreview(kind: $kind, locale: $locale, step: $step, email: $email) {
    kind locale subject text html
  }
}"""
SAVE = "mutation($s: JSONString!) { crmStoreSettingsSave(settings: $s) { name value } }"


@pytest.fixture
def staff(issuer):
    return issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))


def test_flows_follow_the_saved_recovery_steps_and_discounts(store, gql, staff):
    saved = gql(
        SAVE,
        {"s": json.dumps({"recovery_delays_hours": "2,30", "recovery_discounts": "-,10%/7"})},
        token=staff,
    )
    assert "errors" not in saved
    flows = {f["kind"]: f for f in gql(FLOWS, token=staff)["data"]["crmFlows"]}
    assert set(flows) >= {"abandoned_checkout", "win_back", "post_purchase", "welcome"}
    recovery = flows["abandoned_checkout"]
    assert recovery["settings"] == ["recovery_delays_hours", "recovery_discounts"]
    assert [(s["position"], s["hours"]) for s in recovery["steps"]] == [(1, 2.0), (2, 30.0)]
    assert recovery["steps"][0]["discount"] is None
    assert recovery["steps"][1]["discount"] == {"percentage": True, "value": "10", "days": 7}


def test_a_bad_step_setting_is_refused_and_the_flow_keeps_its_steps(store, gql, staff):
    before = gql(FLOWS, token=staff)["data"]["crmFlows"]
    body = gql(SAVE, {"s": json.dumps({"recovery_delays_hours": "1,soon"})}, token=staff)
    assert body["data"]["crmStoreSettingsSave"] is None
    assert "recovery_delays_hours" in body["errors"][0]["message"]
    assert gql(FLOWS, token=staff)["data"]["crmFlows"] == before


def test_preview_in_german_is_the_german_email_with_the_steps_discount(store, gql, staff):
    gql(SAVE, {"s": json.dumps({"recovery_discounts": "-,-,15%/3"})}, token=staff)
    en = gql(PREVIEW, {"kind": "abandoned_checkout", "locale": "en", "step": 3}, token=staff)
    de = gql(PREVIEW, {"kind": "abandoned_checkout", "locale": "de-AT", "step": 3}, token=staff)
    en, de = en["data"]["crmMessagePreview"], de["data"]["crmMessagePreview"]
    assert de["locale"] == "de" and en["locale"] == "en"
    assert de["subject"] and de["subject"] != en["subject"]
    assert 'lang="de"' in de["html"]
    assert "CRM-PREVIEW" in de["html"] and "15" in de["html"]  # the third step's discount
    first = gql(PREVIEW, {"kind": "abandoned_checkout", "locale": "de", "step": 1}, token=staff)
    assert "CRM-PREVIEW" not in first["data"]["crmMessagePreview"]["html"]


def test_preview_in_arabic_is_right_to_left(store, gql, staff):
    ar = gql(PREVIEW, {"kind": "win_back", "locale": "ar"}, token=staff)["data"]
    assert ar["crmMessagePreview"]["locale"] == "ar"
    assert 'dir="rtl"' in ar["crmMessagePreview"]["html"]


def test_preview_with_a_real_customer_uses_their_name_and_latest_order(store, gql, staff):
    from saleor_crm_plugin.profiles.models import OrderRecord, Profile

    anna = Profile.objects.get(email="anna.mueller@example.de")
    latest = OrderRecord.objects.filter(profile=anna).order_by("-created_at").first()
    shown = gql(
        PREVIEW,
        {"kind": "post_purchase", "locale": "de", "email": anna.email},
        token=staff,
    )["data"]["crmMessagePreview"]
    assert anna.first_name and anna.first_name in shown["text"]
    assert f"#{latest.number}" in shown["subject"]
    assert str(latest.lines[0]["product_name"]) in shown["text"]


def test_unknown_kind_step_or_customer_is_refused(store, gql, staff):
    for variables in (
        {"kind": "nope", "locale": "en"},
        {"kind": "win_back", "locale": "en", "step": 2},
        {"kind": "welcome", "locale": "en", "email": "nobody@example.org"},
    ):
        body = gql(PREVIEW, variables, token=staff)
        assert body["data"] is None and body["errors"][0]["message"], variables

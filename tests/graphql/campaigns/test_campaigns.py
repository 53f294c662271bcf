"""Campaigns through GraphQL: save (checked), preview per language, launch, counts, cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from saleor_crm_plugin.campaigns.release import release_due
from saleor_crm_plugin.models import Campaign, CustomerScores
from saleor_crm_plugin.segments.services import recompute_store
from tests.graphql.segments.test_segments import run, staff
from tests.segments.store import NOW, build_store

pytestmark = pytest.mark.django_db

FIELDS = (
    "id name status rfmGroup stage segmentId audience waveSize waveMinutes storeChannel"
    " steps { position sendAt wavesTotal wavesReleased contents { locale subject body }"
    " counts { released queued sent failed skipped { reason count } }"
    " response { responders orders revenue { amount currency } } }"
    " counts { released sent skipped { reason count } }"
)
SAVE = f"""
mutation($id: ID, $i: CRMCampaignInput!) {{ crmCampaignSave(id: $id, input: $i) {{ {FIELDS} }} }}
"""


def campaign_input(**overrides: Any) -> dict[str, Any]:
    soon = timezone.now() + timedelta(hours=1)
    data = {
        "name": "Champions first",
        "rfmGroup": "champions",
        "storeChannel": "default",
        "waveSize": 100,
        "steps": [
            {
                "sendAt": soon.isoformat(),
                "contents": [
                    {"locale": "de-AT", "subject": "Servus", "body": "Griaß di, **Sommer**!"},
                    {"locale": "en", "subject": "Hello", "body": "It is **summer**."},
                ],
            }
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def store(tenant):
    build_store(tenant)
    recompute_store(tenant, NOW)
    return tenant


def test_staff_save_preview_launch_and_cancel_a_campaign(store):
    who = staff(store)
    data, errors = run(who, SAVE, i=campaign_input())
    assert errors == []
    saved = data["crmCampaignSave"]
    assert (saved["status"], saved["rfmGroup"], saved["stage"], saved["audience"]) == (
        "draft", "champions", None, 0,
    )  # fmt: skip
    assert [c["locale"] for c in saved["steps"][0]["contents"]] == ["de-at", "en"]

    preview = "query($id: ID!, $l: String!) { crmCampaignPreview(id: $id, locale: $l) {{ x }} }"
    preview = preview.replace("{{ x }}", "{ locale subject text html }")
    data, errors = run(who, preview, id=saved["id"], l="DE_AT")
    assert errors == []
    shown = data["crmCampaignPreview"]
    assert (shown["locale"], shown["subject"]) == ("de-at", "Servus")
    assert "Hallo," in shown["text"] and "Griaß di, Sommer!" in shown["text"]
    assert "<strong>Sommer</strong>" in shown["html"] and '<html lang="de"' in shown["html"]
    data, errors = run(who, preview, id=saved["id"], l="fr")
    assert (data["crmCampaignPreview"]["locale"], data["crmCampaignPreview"]["subject"]) == (
        "en", "Hello",
    )  # fmt: skip

    launch = f"mutation($id: ID!) {{ crmCampaignLaunch(id: $id) {{ {FIELDS} }} }}"
    data, errors = run(who, launch, id=saved["id"])
    assert errors == []
    launched = data["crmCampaignLaunch"]
    champions = CustomerScores.objects.filter(tenant=store, rfm_group="champions").count()
    assert champions > 0
    assert (launched["status"], launched["audience"]) == ("scheduled", champions)
    assert launched["steps"][0]["wavesTotal"] == 1

    # Launched: no longer editable, and not launched twice.
    data, errors = run(who, SAVE, id=saved["id"], i=campaign_input(name="Changed"))
    assert data["crmCampaignSave"] is None
    assert "Only a draft can be changed" in errors[0]["message"]
    data, errors = run(who, launch, id=saved["id"])
    assert data["crmCampaignLaunch"] is None and "launched already" in errors[0]["message"]

    release_due(timezone.now() + timedelta(hours=1))
    data, errors = run(who, f'query($id: ID!) {{ crmCampaign(id: $id) {{ {FIELDS} }} }}',
                       id=saved["id"])  # fmt: skip
    assert errors == []
    read = data["crmCampaign"]
    assert read["status"] == "done" and read["name"] == "Champions first"
    # The hand-built store has no consents: everyone is skipped, with the reason.
    assert read["counts"] == {
        "released": champions, "sent": 0, "skipped": [{"reason": "no_consent", "count": champions}]
    }  # fmt: skip
    assert read["steps"][0]["response"] == {
        "responders": 0, "orders": 0, "revenue": {"amount": 0.0, "currency": "EUR"}
    }  # fmt: skip

    cancel = "mutation($id: ID!) { crmCampaignCancel(id: $id) { status } }"
    data, errors = run(who, cancel, id=saved["id"])
    assert data["crmCampaignCancel"] == {"status": "cancelled"}
    data, _ = run(who, "{ crmCampaigns { name status } }")
    assert data["crmCampaigns"] == [{"name": "Champions first", "status": "cancelled"}]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rfmGroup": None, "stage": "sleepy"}, "stage: one of new, active"),
        ({"stage": "active"}, "Give exactly one of segmentId, rfmGroup or stage."),
        ({"waveSize": 0}, "waveSize: at least 1 per wave"),
        (
            {"steps": [{"sendAt": "2026-12-01T10:00:00+00:00", "contents": [
                {"locale": "de", "subject": "Hallo", "body": "Sommer"}]}]},
            "steps[0]: give the message also in one of en",
        ),
        (
            {"steps": [{"sendAt": "2026-12-01T10:00:00+00:00", "contents": [
                {"locale": "en", "subject": " ", "body": "Summer"}]}]},
            "steps[0].contents[0].subject: give a subject of 1 to 200 characters.",
        ),
        (
            {"steps": [
                {"sendAt": "2026-12-02T10:00:00+00:00", "contents": [
                    {"locale": "en", "subject": "A", "body": "a"}]},
                {"sendAt": "2026-12-01T10:00:00+00:00", "contents": [
                    {"locale": "en", "subject": "B", "body": "b"}]},
            ]},
            "steps[1].sendAt: each message goes after the one before it.",
        ),
    ],
)  # fmt: skip
def test_a_campaign_that_cannot_be_sent_is_refused_and_nothing_is_saved(store, overrides, message):
    data, errors = run(staff(store), SAVE, i=campaign_input(**overrides))
    assert data["crmCampaignSave"] is None
    assert len(errors) == 1 and message in errors[0]["message"], errors
    assert Campaign.objects.count() == 0

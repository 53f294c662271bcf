"""Notes and tags as services: tags in segment rules, and both following a guest who registers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saleor_crm_plugin.models import Profile, TimelineEntry
from saleor_crm_plugin.profiles.identity import merge_guests_into_accounts
from saleor_crm_plugin.segments.queries import preview
from saleor_crm_plugin.segments.rules import RuleError
from saleor_crm_plugin.service.errors import ServiceError
from saleor_crm_plugin.service.models import Note, Tag
from saleor_crm_plugin.service.notes import add_note, change_tags
from saleor_crm_plugin.service.types import Actor
from tests.messaging.conftest import make_profile

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
MIA = Actor(kind="staff", user_id="VXNlcjoyMQ==", email="mia@nordwind.example")


def tagged(tenant):
    anna = make_profile(tenant)
    ben = make_profile(tenant, email="ben@example.at", user_id="VXNlcjo1MA==")
    make_profile(tenant, email="cleo@example.fr", user_id="VXNlcjo1MQ==")
    change_tags(anna, MIA, NOW, add=["VIP", "  Wholesale "])
    change_tags(ben, MIA, NOW, add=["vip"])
    return anna, ben


def members(tenant, rules) -> set[str]:
    found = preview(tenant, rules, NOW, 10)
    return set(Profile.objects.filter(pk__in=found.first).values_list("email", flat=True))


def test_tags_in_segment_rules_match_any_all_or_none_in_any_letter_case(tenant):
    tagged(tenant)

    def rule(op, value):
        return {"all": [{"field": "tags", "op": op, "value": value}]}

    assert members(tenant, rule("contains_any", ["VIP"])) == {
        "anna.mueller@example.de",
        "ben@example.at",
    }
    assert members(tenant, rule("contains_all", ["vip", "wholesale"])) == {
        "anna.mueller@example.de"
    }
    assert members(tenant, rule("contains_none", ["vip"])) == {"cleo@example.fr"}
    with pytest.raises(RuleError, match="Give a list"):
        preview(tenant, rule("contains_any", "vip"), NOW, 10)


def test_tagging_twice_changes_nothing_and_the_timeline_names_who(tenant):
    anna, _ = tagged(tenant)
    assert change_tags(anna, MIA, NOW, add=["vip"]) == ["vip", "wholesale"]
    assert change_tags(anna, MIA, NOW, remove=["VIP", "unknown"]) == ["wholesale"]
    rows = TimelineEntry.objects.filter(profile=anna, kind__startswith="crm.tag.")
    assert sorted((r.kind, r.data["tag"], r.data["by"]) for r in rows) == [
        ("crm.tag.added", "vip", "mia@nordwind.example"),
        ("crm.tag.added", "wholesale", "mia@nordwind.example"),
        ("crm.tag.removed", "vip", "mia@nordwind.example"),
    ]
    with pytest.raises(ServiceError, match="empty"):
        change_tags(anna, MIA, NOW, add=["ok", " "])
    assert list(Tag.objects.filter(profile=anna).values_list("tag", flat=True)) == ["wholesale"]


def test_a_guest_who_registers_keeps_notes_and_tags_once(tenant):
    guest = make_profile(tenant, email="nina@example.de")
    account = make_profile(tenant, email="nina@example.de", user_id="VXNlcjo3Nw==")
    add_note(guest, "Asked for gift wrapping at checkout.", MIA, NOW)
    change_tags(guest, MIA, NOW, add=["gift", "vip"])
    change_tags(account, MIA, NOW, add=["vip"])

    assert merge_guests_into_accounts(tenant.pk, ["nina@example.de"]) == {account.pk}

    assert not Profile.objects.filter(pk=guest.pk).exists()
    assert list(Note.objects.values_list("profile_id", "body")) == [
        (account.pk, "Asked for gift wrapping at checkout.")
    ]
    assert sorted(Tag.objects.values_list("profile_id", "tag")) == [
        (account.pk, "gift"),
        (account.pk, "vip"),
    ]

"""The consent ledger: opt-in by default, double opt-in where configured, withdrawal wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saleor_crm_plugin.privacy.errors import NothingToConfirm
from saleor_crm_plugin.privacy.models import ConsentEntry, Source
from saleor_crm_plugin.privacy.services import (
    confirm_consent,
    grant_consent,
    has_consent,
    withdraw_consent,
)
from tests.messaging.conftest import make_profile

pytestmark = pytest.mark.django_db


def test_no_record_means_no_consent(tenant):
    assert has_consent(make_profile(tenant), "marketing_email") is False


def test_a_grant_counts_and_a_later_withdrawal_ends_it(tenant):
    anna = make_profile(tenant)
    grant_consent(anna, "marketing_email", source=Source.ACCOUNT, wording_version="2026-05")
    assert has_consent(anna, "marketing_email", "default-channel") is True
    assert has_consent(anna, "behaviour_tracking") is False  # purposes are separate
    withdraw_consent(anna, "marketing_email", source=Source.ACCOUNT)
    assert has_consent(anna, "marketing_email", "default-channel") is False
    grant = ConsentEntry.objects.get(action="grant")
    assert (grant.jurisdiction, grant.wording_version, grant.source) == ("DE", "2026-05", "account")
    kinds = list(anna.timeline.order_by("id").values_list("kind", flat=True))
    assert kinds == ["crm.consent.granted", "crm.consent.withdrawn"]


def test_a_grant_for_one_channel_does_not_cover_another(tenant):
    anna = make_profile(tenant)
    grant_consent(anna, "marketing_email", "uk", source=Source.CHECKOUT)
    assert has_consent(anna, "marketing_email", "uk") is True
    assert has_consent(anna, "marketing_email", "de") is False


def test_under_double_opt_in_a_grant_counts_only_once_confirmed(tenant, settings):
    settings.CRM_DOUBLE_OPT_IN_COUNTRIES = "DE,AT"
    anna = make_profile(tenant, country="DE")
    kenji = make_profile(tenant, email="kenji@example.jp", country="JP")
    grant_consent(anna, "marketing_email", source=Source.CHECKOUT)
    grant_consent(kenji, "marketing_email", source=Source.CHECKOUT)
    assert has_consent(anna, "marketing_email") is False
    assert has_consent(kenji, "marketing_email") is True
    confirm_consent(anna, "marketing_email")
    assert has_consent(anna, "marketing_email") is True


def test_a_confirmation_link_clicked_after_a_withdrawal_does_not_restore_consent(tenant, settings):
    settings.CRM_DOUBLE_OPT_IN_COUNTRIES = ["DE"]
    anna = make_profile(tenant, country="DE")
    grant_consent(anna, "marketing_email", source=Source.CHECKOUT)
    withdraw_consent(anna, "marketing_email", source=Source.ACCOUNT)
    with pytest.raises(NothingToConfirm):
        confirm_consent(anna, "marketing_email")
    assert has_consent(anna, "marketing_email") is False
    assert ConsentEntry.objects.count() == 2


def test_the_ledger_keeps_every_line_and_the_newest_decides(tenant):
    anna = make_profile(tenant)
    t = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    grant_consent(anna, "marketing_email", source=Source.IMPORT, at=t[0])
    withdraw_consent(anna, "marketing_email", source=Source.STAFF, at=t[2], actor="staff:7")
    grant_consent(anna, "marketing_email", source=Source.ACCOUNT, at=t[1])  # recorded late
    assert has_consent(anna, "marketing_email") is False
    assert ConsentEntry.objects.count() == 3


def test_an_unknown_purpose_is_refused_and_nothing_is_written(tenant):
    from saleor_crm_plugin.privacy.errors import UnknownPurpose

    anna = make_profile(tenant)
    with pytest.raises(UnknownPurpose, match="BEHAVIOUR_TRACKING"):
        grant_consent(anna, "BEHAVIOUR_TRACKING", source=Source.ACCOUNT)
    with pytest.raises(UnknownPurpose):
        withdraw_consent(anna, "marketing-email", source=Source.ACCOUNT)
    assert not ConsentEntry.objects.exists()

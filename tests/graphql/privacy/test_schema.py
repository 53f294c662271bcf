"""A signed-in customer grants and withdraws consent from their account page and sees it."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.messaging.models import Message
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.privacy.services import has_consent
from tests.graphql.conftest import ANNA

pytestmark = pytest.mark.django_db

SET = """mutation($g: Boolean!, $c: String) {
  crmConsentSet(purpose: MARKETING_EMAIL, granted: $g, channel: $c, wordingVersion: "2026-11") {
    purpose channel granted pendingConfirmation wordingVersion
  }
}"""
ME = "{ crmMe { consents { purpose channel granted pendingConfirmation } } }"


def as_anna(store, query: str, **variables) -> dict:
    anna = Principal(PrincipalKind.CUSTOMER, store, ANNA, "anna.mueller@example.de")
    result = schema.execute(query, variable_values=variables, context_value=CRMContext(anna))
    assert not result.errors, result.errors
    return result.data


def test_a_customer_grants_and_withdraws_marketing_e_mail_and_sees_it_on_crm_me(store):
    granted = as_anna(store, SET, g=True, c="")["crmConsentSet"]
    assert granted == {
        "purpose": "MARKETING_EMAIL",
        "channel": "",
        "granted": True,
        "pendingConfirmation": False,
        "wordingVersion": "2026-11",
    }
    anna = Profile.objects.get(email="anna.mueller@example.de")
    assert has_consent(anna, "marketing_email", "channel-eur") is True

    as_anna(store, SET, g=False, c="")
    assert as_anna(store, ME)["crmMe"]["consents"] == [
        {
            "purpose": "MARKETING_EMAIL",
            "channel": "",
            "granted": False,
            "pendingConfirmation": False,
        }
    ]
    assert has_consent(anna, "marketing_email", "channel-eur") is False


def test_under_double_opt_in_the_grant_waits_for_confirmation(store, settings):
    settings.CRM_DOUBLE_OPT_IN_COUNTRIES = "DE"
    Profile.objects.filter(email="anna.mueller@example.de").update(country="DE")
    result = as_anna(store, SET, g=True, c="channel-eur")["crmConsentSet"]
    assert (result["granted"], result["pendingConfirmation"]) == (False, True)
    [message] = Message.objects.all()  # the e-mail with the confirmation link, queued once
    assert (message.kind, message.purpose, message.status) == (
        "consent_confirmation",
        "transactional",
        "queued",
    )
    assert "/consent/confirm/" in message.context["confirm_url"]


def test_without_double_opt_in_no_confirmation_e_mail_is_queued(store):
    as_anna(store, SET, g=True, c="")
    assert Message.objects.count() == 0

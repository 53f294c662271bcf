"""Staff with MANAGE_SETTINGS connect the store's Twilio and WhatsApp accounts."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.messaging.accounts import credentials
from saleor_crm_plugin.models import ChannelAccount

pytestmark = pytest.mark.django_db

SET = """mutation($sid: String, $token: String, $from: String, $waId: String, $waToken: String) {
  crmMessagingChannelsSet(twilioAccountSid: $sid, twilioAuthToken: $token, twilioFrom: $from,
                          whatsappPhoneNumberId: $waId, whatsappAccessToken: $waToken) {
    smsReady whatsappReady twilioWebhookUrl whatsappWebhookUrl } }"""
SID = "AC" + "0" * 32


def run(tenant, permissions: frozenset[str], **variables):
    who = Principal(PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "", permissions)
    result = schema.execute(SET, variable_values=variables, context_value=CRMContext(principal=who))
    return result.data, [getattr(e, "original_error", e) for e in result.errors or []]


def test_staff_store_twilio_credentials_encrypted_and_get_the_webhook_urls(tenant, settings):
    settings.CRM_PUBLIC_URL = "https://crm.example"

    data, errors = run(
        tenant,
        frozenset({"MANAGE_SETTINGS"}),
        sid=SID,
        token="tok-1",
        **{"from": "+49 151 1234567"},
    )

    assert errors == []
    assert data["crmMessagingChannelsSet"] == {
        "smsReady": True,
        "whatsappReady": False,
        "twilioWebhookUrl": f"https://crm.example/api/twilio/{tenant.pk}/sms",
        "whatsappWebhookUrl": f"https://crm.example/api/whatsapp/{tenant.pk}/webhook",
    }
    stored = ChannelAccount.objects.get(tenant=tenant)
    assert "tok-1" not in stored.twilio_auth_token_encrypted
    assert credentials(tenant.pk).twilio_from == "+491511234567"
    # omitting a value keeps it; an empty one clears it
    run(tenant, frozenset({"MANAGE_SETTINGS"}), token="")
    found = credentials(tenant.pk)
    assert (found.twilio_account_sid, found.twilio_auth_token, found.sms_ready) == (SID, "", False)


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"sid": "SK123"}, "twilioAccountSid"), ({"from": "0151 1234567"}, "twilioFrom"),
     ({"waId": "not-digits"}, "whatsappPhoneNumberId")],
)  # fmt: skip
def test_values_that_cannot_be_right_are_refused_and_nothing_is_stored(tenant, variables, field):
    data, errors = run(tenant, frozenset({"MANAGE_SETTINGS"}), **variables)

    assert data == {"crmMessagingChannelsSet": None}
    assert [e.field for e in errors] == [field]
    assert not ChannelAccount.objects.exists()


def test_manage_users_is_not_enough(tenant):
    data, errors = run(tenant, frozenset({"MANAGE_USERS"}), sid=SID)
    assert [type(e).__name__ for e in errors] == ["PermissionDenied"]
    assert not ChannelAccount.objects.exists()

"""SMS and WhatsApp: the store's provider credentials (staff with MANAGE_SETTINGS)."""

from __future__ import annotations

import re
from typing import Any

import graphene

from ...conf import crm_settings
from ...messaging.accounts import credentials, set_account
from ...profiles.phones import e164
from ..core.context import crm_context
from ..core.errors import InvalidInput
from ..core.permissions import MANAGE_SETTINGS, require_permission

_SID = {"twilioAccountSid": "AC", "twilioMessagingServiceSid": "MG"}
_DIGITS = re.compile(r"^\d{5,32}$")


class CRMMessagingChannels(graphene.ObjectType):
    sms_ready = graphene.Boolean(
        required=True, description="Twilio account SID, auth token and a sender are set."
    )
    whatsapp_ready = graphene.Boolean(
        required=True, description="WhatsApp phone number id and access token are set."
    )
    twilio_webhook_url = graphene.String(
        required=True,
        description="Set this as the number's 'A message comes in' webhook in Twilio's console.",
    )
    whatsapp_webhook_url = graphene.String(
        required=True,
        description="Set this as the callback URL of your Meta app's WhatsApp webhook.",
    )


def _check(values: dict[str, str | None]) -> None:
    for field, prefix in _SID.items():
        value = values.get(field)
        if value and not value.strip().startswith(prefix):
            raise InvalidInput(f"A Twilio SID of this kind starts with {prefix}.", field=field)
    sender = values.get("twilioFrom")
    if sender and not e164(sender):
        raise InvalidInput("Give the number in international form, e.g. +4915112345678.",
                           field="twilioFrom")  # fmt: skip
    number_id = values.get("whatsappPhoneNumberId")
    if number_id and not _DIGITS.match(number_id.strip()):
        raise InvalidInput("The phone number id is the digits Meta shows next to the number.",
                           field="whatsappPhoneNumberId")  # fmt: skip


class MessagingMutations(graphene.ObjectType):
    crm_messaging_channels_set = graphene.Field(
        CRMMessagingChannels,
        twilio_account_sid=graphene.String(description="AC...; omit to keep, empty to clear."),
        twilio_auth_token=graphene.String(description="Omit to keep, empty to clear."),
        twilio_from=graphene.String(description="Sender number in E.164, e.g. +4915112345678."),
        twilio_messaging_service_sid=graphene.String(description="MG...; used instead of From."),
        whatsapp_phone_number_id=graphene.String(description="The WhatsApp number's id."),
        whatsapp_access_token=graphene.String(description="A system user's access token."),
        whatsapp_app_secret=graphene.String(description="The Meta app's secret (signatures)."),
        whatsapp_verify_token=graphene.String(
            description="The verify token you type in Meta's webhook settings."
        ),
        description="The store's SMS (Twilio) and WhatsApp (Cloud API) credentials, stored "
        "encrypted. Requires MANAGE_SETTINGS.",
    )

    @staticmethod
    def resolve_crm_messaging_channels_set(
        root: Any, info: Any, **values: str | None
    ) -> CRMMessagingChannels:
        tenant = require_permission(info, MANAGE_SETTINGS)
        camel = {
            "twilioAccountSid": values.get("twilio_account_sid"),
            "twilioFrom": values.get("twilio_from"),
            "twilioMessagingServiceSid": values.get("twilio_messaging_service_sid"),
            "whatsappPhoneNumberId": values.get("whatsapp_phone_number_id"),
        }
        _check(camel)
        if values.get("twilio_from"):
            values["twilio_from"] = e164(values["twilio_from"])
        if "whatsapp_access_token" in values:
            values["whatsapp_token"] = values.pop("whatsapp_access_token")
        principal = crm_context(info).principal
        set_account(tenant, values, by=principal.email or principal.kind.value)
        found = credentials(tenant.pk)
        base = crm_settings.PUBLIC_URL or ""
        return CRMMessagingChannels(
            sms_ready=found.sms_ready,
            whatsapp_ready=found.whatsapp_ready,
            twilio_webhook_url=f"{base}/api/twilio/{tenant.pk}/sms",
            whatsapp_webhook_url=f"{base}/api/whatsapp/{tenant.pk}/webhook",
        )

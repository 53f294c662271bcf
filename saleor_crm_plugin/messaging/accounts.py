"""Each store's SMS (Twilio) and WhatsApp (Cloud API) credentials, stored encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..tenants import crypto
from ..tenants.models import Tenant
from .models import ChannelAccount

PLAIN = ("twilio_account_sid", "twilio_from", "twilio_messaging_service_sid",
         "whatsapp_phone_number_id")  # fmt: skip
SECRET = ("twilio_auth_token", "whatsapp_token", "whatsapp_app_secret", "whatsapp_verify_token")


@dataclass(frozen=True)
class ChannelCredentials:
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_messaging_service_sid: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_token: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""

    @property
    def sms_ready(self) -> bool:
        sender = self.twilio_from or self.twilio_messaging_service_sid
        return bool(self.twilio_account_sid and self.twilio_auth_token and sender)

    @property
    def whatsapp_ready(self) -> bool:
        return bool(self.whatsapp_phone_number_id and self.whatsapp_token)


def set_account(tenant: Tenant, values: dict[str, str | None], *, by: str = "") -> ChannelAccount:
    """Store the values given (None keeps the stored one, "" clears it); secrets encrypted."""
    unknown = sorted(set(values) - set(PLAIN) - set(SECRET))
    if unknown:
        raise ValueError(f"unknown channel settings: {', '.join(unknown)}")
    account, _ = ChannelAccount.objects.get_or_create(tenant=tenant)
    for name, value in values.items():
        if value is None:
            continue
        if name in SECRET:
            setattr(account, f"{name}_encrypted", crypto.encrypt(value.strip()))
        else:
            setattr(account, name, value.strip())
    account.updated_by = by
    account.save()
    return account


def credentials(tenant_id: int) -> ChannelCredentials:
    """The store's credentials, decrypted; empty values when none are set."""
    account = ChannelAccount.objects.filter(tenant_id=tenant_id).first()
    if account is None:
        return ChannelCredentials()
    found: dict[str, Any] = {name: getattr(account, name) for name in PLAIN}
    for name in SECRET:
        found[name] = crypto.decrypt(getattr(account, f"{name}_encrypted"))
    return ChannelCredentials(**found)

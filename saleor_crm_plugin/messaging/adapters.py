"""How a message travels: one adapter per medium (e-mail, SMS, WhatsApp) behind one interface.

The outbox (``services.py``) owns everything the media share: claiming a row exactly once,
retrying with backoff, the send window, the frequency cap, consent, suppression and the
timeline. An adapter only knows its medium: where the customer is reached (an e-mail address, a
phone number), which consent it needs, how the message is written and how the provider is asked
to carry it, and what the provider's answer means (``SendResult``). Stores can swap one with
``CRM_MESSAGING_ADAPTERS`` (as allauth's ``get_adapter()``), e.g. to send SMS through another
provider.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from django.utils.module_loading import import_string

from ..conf import crm_settings
from ..profiles.models import Profile
from ..tenants import store_settings
from . import email
from .models import Message, SuppressionReason
from .render import render_for, shop_name, template_context

BUILT_IN = {
    "email": "saleor_crm_plugin.messaging.adapters.EmailAdapter",
    "sms": "saleor_crm_plugin.messaging.sms.TwilioSmsAdapter",
    "whatsapp": "saleor_crm_plugin.messaging.whatsapp.WhatsAppCloudAdapter",
}


@dataclass(frozen=True)
class SendResult:
    """The provider's answer. ``retry``: a temporary failure (the outbox backs off and tries
    again); ``failed``: refused for good, with ``reason``; ``suppress``: never use the address
    on this medium again (a hard bounce, a recipient who texted STOP)."""

    outcome: Literal["sent", "retry", "failed"]
    provider_id: str = ""
    reason: str = ""
    error: str = ""
    suppress: SuppressionReason | None = None


class ChannelAdapter:
    """One medium. ``render`` may raise KeyError/ValueError/TypeError for data the text cannot
    use (the outbox fails the message, "bad_data"); ``send`` never raises for a provider's
    answer or a network error: it returns a ``SendResult``."""

    medium = ""
    consent_purpose = ""  # privacy.models.Purpose of marketing on this medium
    exhausted_reason = "provider_error"  # the reason once retries ran out

    def address(self, profile: Profile) -> str:
        raise NotImplementedError

    def suppression_key(self, address: str) -> str:
        """What ``crm_suppression`` hashes: phones per medium, so a STOP by SMS does not end
        WhatsApp messages to the same number."""
        return f"{self.medium}:{address}"

    def unavailable(self, profile: Profile, kind: str) -> str:
        """Why this store cannot send ``kind`` on this medium at all ("" when it can): no
        credentials, no text for the kind, no approved template."""
        return ""

    def render(
        self, message: Message, profile: Profile, *, unsubscribe_url: str, time_zone: str
    ) -> Any:
        raise NotImplementedError

    def send(self, message: Message, profile: Profile, address: str, rendered: Any) -> SendResult:
        raise NotImplementedError

    def text_context(self, message: Message, profile: Profile, time_zone: str) -> dict[str, Any]:
        """The template data of a short text (SMS, WhatsApp): as an e-mail's, without the
        unsubscribe link, which such texts replace with the provider's STOP."""
        return template_context(
            message.kind,
            message.locale,
            message.context,
            name=profile.first_name,
            shop=shop_name(profile),
            time_zone=time_zone,
            unsubscribe_url="",
        )


class EmailAdapter(ChannelAdapter):
    """Django's e-mail backend (SMTP by default), with a stable Message-ID per outbox row."""

    medium = "email"
    consent_purpose = "marketing_email"
    exhausted_reason = "smtp_error"

    def address(self, profile: Profile) -> str:
        return profile.email

    def suppression_key(self, address: str) -> str:
        return address  # the hash profiles.sql.EMAIL_HASH computes in SQL, too

    def render(
        self, message: Message, profile: Profile, *, unsubscribe_url: str, time_zone: str
    ) -> Any:
        text = render_for(
            message.kind,
            message.locale,
            message.context,
            profile,
            unsubscribe_url=unsubscribe_url,
            time_zone=time_zone,
        )
        return text, unsubscribe_url

    def send(self, message: Message, profile: Profile, address: str, rendered: Any) -> SendResult:
        sender = (
            store_settings.chosen(profile.tenant, message.store_channel, store_settings.SENDER)
            or crm_settings.MESSAGE_SENDER
        )
        msg_id = email.message_id(message.pk, message.tenant_id, _domain(sender))
        text, link = rendered
        mail = email.build(text, address, sender=sender, msg_id=msg_id, unsubscribe_url=link)
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                return SendResult("failed", reason="hard_bounce", suppress=SuppressionReason.BOUNCE)
            return SendResult("retry", error=f"recipient refused: {codes}")
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult("retry", error=type(exc).__name__)
        return SendResult("sent", provider_id=msg_id)


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else "saleor-crm.invalid"


@cache
def _load(path: str) -> ChannelAdapter:
    adapter = import_string(path)()
    if not isinstance(adapter, ChannelAdapter):
        raise TypeError(f"{path} is not a ChannelAdapter")
    return adapter


def get_adapter(medium: str) -> ChannelAdapter:
    """The adapter for ``medium``; KeyError for a medium nobody configured."""
    path = {**BUILT_IN, **crm_settings.MESSAGING_ADAPTERS}[medium]
    return _load(path)

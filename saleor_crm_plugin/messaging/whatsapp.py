"""WhatsApp Business through Meta's Cloud API, spoken with ``requests``.

``POST {base}/v{version}/{phone_number_id}/messages`` with a Bearer token and JSON. WhatsApp
delivers a message a business starts only as an approved template, so each message kind maps to
the merchant's template (store setting ``whatsapp_templates``) and our formatted values fill its
body parameters, in the order ``BODY_PARAMETERS`` lists (the merchant writes the template with
{{1}}, {{2}} ... in that order). The template's language is the message's locale.

What the Cloud API's answers mean for us: 200 with ``messages[0].id``: sent. 429, 5xx and the
throughput errors (130429, 131056, 131048 spam rate limit) are temporary: retried. Any other
error is a refusal for good, with Meta's code in the reason ("provider_refused") or
"template_refused" for template errors (132xxx: missing, paused, parameters not matching).
"""

from __future__ import annotations

from typing import Any

import requests

from ..conf import crm_settings
from ..profiles.models import Profile
from ..tenants import store_settings
from .accounts import credentials
from .adapters import ChannelAdapter, SendResult
from .models import Message

# The body parameters each kind's template receives, in order ({{1}}, {{2}} ...).
BODY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "abandoned_checkout": ("name", "total", "checkout_url"),
    "browse_reminder": ("name", "products"),
    "points_expiring": ("name", "points", "date"),
    "tier_changed": ("name", "tier"),
    "welcome": ("name", "shop"),
}

# Our locales as WhatsApp's template language codes.
LANGUAGES = {"zh-hans": "zh_CN", "de-at": "de", "en": "en"}

RETRIED_CODES = {130429, 131056, 131048, 131000, 133004}


def messages_url(phone_number_id: str) -> str:
    base, version = crm_settings.WHATSAPP_API_BASE, crm_settings.WHATSAPP_API_VERSION
    return f"{base}/v{version}/{phone_number_id}/messages"


def language_code(locale: str) -> str:
    return LANGUAGES.get(locale) or locale.split("-")[0]


class WhatsAppCloudAdapter(ChannelAdapter):
    medium = "whatsapp"
    consent_purpose = "marketing_whatsapp"

    def address(self, profile: Profile) -> str:
        return profile.phone

    def unavailable(self, profile: Profile, kind: str) -> str:
        if kind not in BODY_PARAMETERS or not store_settings.whatsapp_template(
            profile.tenant, kind
        ):
            return "no_whatsapp_template"
        if not credentials(profile.tenant_id).whatsapp_ready:
            return "whatsapp_not_configured"
        return ""

    def render(
        self, message: Message, profile: Profile, *, unsubscribe_url: str, time_zone: str
    ) -> Any:
        ctx = self.text_context(message, profile, time_zone)
        values = []
        for name in BODY_PARAMETERS[message.kind]:
            value = ctx[name]
            values.append(", ".join(value) if isinstance(value, list) else str(value))
        template = store_settings.whatsapp_template(profile.tenant, message.kind)
        if not template:
            raise ValueError(f"no WhatsApp template for {message.kind!r}")
        return {
            "name": template,
            "language": {"code": language_code(message.locale)},
            "components": [
                {
                    "type": "body",
                    # WhatsApp refuses empty parameters; a customer without a first name is "-"
                    # rather than a message that never goes.
                    "parameters": [{"type": "text", "text": v or "-"} for v in values],
                }
            ],
        }

    def send(self, message: Message, profile: Profile, address: str, rendered: Any) -> SendResult:
        found = credentials(message.tenant_id)
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": address.lstrip("+"),
            "type": "template",
            "template": rendered,
        }
        try:
            answer = requests.post(
                messages_url(found.whatsapp_phone_number_id),
                json=payload,
                headers={"Authorization": f"Bearer {found.whatsapp_token}"},
                timeout=crm_settings.CHANNEL_HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            return SendResult("retry", error=type(exc).__name__)
        try:
            body = answer.json()
        except ValueError:
            body = {}
        return read_answer(answer.status_code, body if isinstance(body, dict) else {})


def read_answer(status: int, body: dict[str, Any]) -> SendResult:
    """What the Cloud API's answer means for the outbox (see the module docstring)."""
    sent = body.get("messages") or []
    if status == 200 and sent and isinstance(sent[0], dict) and sent[0].get("id"):
        return SendResult("sent", provider_id=str(sent[0]["id"]))
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = error.get("code")
    text = f"whatsapp {status} {code}: {error.get('message', '')}"[:500]
    if status == 429 or status >= 500 or status == 200 or code in RETRIED_CODES:
        return SendResult("retry", error=text)
    if isinstance(code, int) and 132000 <= code < 133000:
        return SendResult("failed", reason="template_refused", error=text)
    return SendResult("failed", reason="provider_refused", error=text)

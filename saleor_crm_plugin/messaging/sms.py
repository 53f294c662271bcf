"""SMS through Twilio's Messages API, spoken with ``requests`` (no twilio package).

``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded To, From (or
MessagingServiceSid) and Body, HTTP basic auth with the account SID and auth token. Twilio
answers 201 with the message's ``sid``. What its errors mean for us:

- 429 (too many requests) and 5xx: temporary, the outbox retries with backoff;
- 21610 ("Attempt to send to unsubscribed recipient"): the customer texted STOP to our
  number; suppress the number for SMS, never retry;
- 21211 / 21614 (invalid or non-mobile number): refused for good, "invalid_number";
- any other 4xx: refused for good with Twilio's code ("provider_refused").

A network error or timeout is retried too. Twilio has no idempotency key for Messages, so a
timeout after Twilio accepted the message can send it twice (as with SMTP); we accept that
rather than never send.
"""

from __future__ import annotations

from typing import Any

import requests

from ..conf import crm_settings
from ..profiles.models import Profile
from .accounts import credentials
from .adapters import ChannelAdapter, SendResult
from .models import Message, Purpose, SuppressionReason
from .render import SMS_KINDS, render_sms

STOPPED = 21610
INVALID_NUMBER = (21211, 21614)


def messages_url(account_sid: str) -> str:
    return f"{crm_settings.TWILIO_API_BASE}/2010-04-01/Accounts/{account_sid}/Messages.json"


def status_callback_url(tenant_id: int) -> str:
    """Where Twilio reports delivery (the same endpoint as inbound SMS); "" without a public
    URL, since Twilio cannot reach a request-relative one."""
    base = crm_settings.PUBLIC_URL
    return f"{base}/api/twilio/{tenant_id}/sms" if base else ""


class TwilioSmsAdapter(ChannelAdapter):
    medium = "sms"
    consent_purpose = "marketing_sms"

    def address(self, profile: Profile) -> str:
        return profile.phone

    def unavailable(self, profile: Profile, kind: str) -> str:
        if kind not in SMS_KINDS:
            return "no_sms_text"
        if not credentials(profile.tenant_id).sms_ready:
            return "sms_not_configured"
        return ""

    def render(
        self, message: Message, profile: Profile, *, unsubscribe_url: str, time_zone: str
    ) -> Any:
        ctx = self.text_context(message, profile, time_zone)
        return render_sms(
            message.kind, message.locale, ctx, stop_hint=message.purpose == Purpose.MARKETING
        )

    def send(self, message: Message, profile: Profile, address: str, rendered: Any) -> SendResult:
        found = credentials(message.tenant_id)
        form = {"To": address, "Body": str(rendered)}
        if found.twilio_messaging_service_sid:
            form["MessagingServiceSid"] = found.twilio_messaging_service_sid
        else:
            form["From"] = found.twilio_from
        if callback := status_callback_url(message.tenant_id):
            form["StatusCallback"] = callback
        try:
            answer = requests.post(
                messages_url(found.twilio_account_sid),
                data=form,
                auth=(found.twilio_account_sid, found.twilio_auth_token),
                timeout=crm_settings.CHANNEL_HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            return SendResult("retry", error=type(exc).__name__)
        return read_answer(answer.status_code, _json(answer))


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def read_answer(status: int, body: dict[str, Any]) -> SendResult:
    """What Twilio's answer means for the outbox (see the module docstring)."""
    if status in (200, 201) and body.get("sid"):
        return SendResult("sent", provider_id=str(body["sid"]))
    code = body.get("code")
    error = f"twilio {status} {code}: {body.get('message', '')}"[:500]
    if status == 429 or status >= 500 or status in (200, 201):
        return SendResult("retry", error=error)
    if code == STOPPED:
        return SendResult("failed", reason="stopped", error=error, suppress=SuppressionReason.STOP)
    if code in INVALID_NUMBER:
        return SendResult("failed", reason="invalid_number", error=error)
    return SendResult("failed", reason="provider_refused", error=error)

"""What customers and providers tell us back: "STOP"/"START" replies and delivery failures.

Signatures are checked before anything else (``twilio_signature_valid``,
``meta_signature_valid``); the doors (``webhooks/twilio.py``, ``webhooks/whatsapp.py``) answer
403 and change nothing when they do not match.

A reply names the customer by phone number only, so every profile of the store with that number
(a guest and an account, before they are merged) gets the change. A STOP by SMS withdraws
marketing SMS consent (source "customer", for every channel) and suppresses the number for SMS,
because Twilio's carriers block any further text to it, marketing or not; START re-grants the
consent and lifts that suppression. WhatsApp has no carrier block, so there STOP and START only
change the WhatsApp marketing consent. Providers retry webhooks, so each verb does nothing when
the state already is what the reply asks for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from ..privacy.models import Action, ConsentEntry, Source
from ..privacy.services import confirm_consent, grant_consent, has_consent, withdraw_consent
from ..profiles.models import Profile
from ..profiles.phones import e164
from . import events
from .adapters import get_adapter
from .models import Message, Status, SuppressionReason
from .services import lift_stop, record_bounce

# The keywords Twilio's own opt-out handling recognises (and the customer may write in lower
# case, with a full stop); a few common ones in our other languages for WhatsApp.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
    | {"STOPP", "ARRET", "ARRÊT", "ALTO", "BAJA"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP"})


def twilio_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Twilio's ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the auth token, of the
    full URL Twilio called followed by every POST parameter's name and value, sorted by name."""
    data = url + "".join(f"{k}{v}" for k, v in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    url: str, params: Iterable[tuple[str, str]], header: str, auth_token: str
) -> bool:
    if not header or not auth_token:
        return False
    return hmac.compare_digest(twilio_signature(url, params, auth_token), header)


def meta_signature_valid(body: bytes, header: str, app_secret: str) -> bool:
    """Meta's ``X-Hub-Signature-256``: "sha256=" + hex HMAC-SHA256 of the raw body, keyed
    with the app secret."""
    if not header.startswith("sha256=") or not app_secret:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def keyword(text: str) -> str:
    """ "stop", "start" or "" for any other reply."""
    word = " ".join(text.strip().rstrip(".!").upper().split())
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return ""


def _newest_action(profile: Profile, purpose: str) -> str | None:
    return (
        ConsentEntry.objects.filter(profile=profile, purpose=purpose, channel="")
        .order_by("-occurred_at", "-id")
        .values_list("action", flat=True)
        .first()
    )


def handle_reply(tenant_id: int, medium: str, phone: str, text: str, at: datetime) -> int:
    """Apply a STOP or START reply from ``phone`` on ``medium``; returns how many changes it
    made (consents, the SMS suppression). Atomic; each consent change has its
    ``crm.consent.*`` timeline entry."""
    word = keyword(text)
    number = e164(phone)
    if not word or not number:
        return 0
    adapter = get_adapter(medium)
    purpose = adapter.consent_purpose
    changed = 0
    with transaction.atomic():
        if medium == "sms":
            key = adapter.suppression_key(number)
            if word == "stop":
                changed += record_bounce(tenant_id, key, SuppressionReason.STOP, at)
            else:
                changed += lift_stop(tenant_id, key)
        for profile in Profile.objects.filter(tenant_id=tenant_id, phone=number).order_by("id"):
            if word == "stop" and _newest_action(profile, purpose) != Action.WITHDRAW:
                withdraw_consent(profile, purpose, source=Source.CUSTOMER, at=at, actor=number)
                changed += 1
            elif word == "start" and not has_consent(profile, purpose):
                entry = grant_consent(profile, purpose, source=Source.CUSTOMER, at=at, actor=number)
                if entry.needs_confirmation:
                    # Texting START from the number is itself the proof a double opt-in asks for.
                    confirm_consent(profile, purpose, at=at)
                changed += 1
    return changed


def record_failure(
    tenant_id: int, medium: str, provider_id: str, error_code: str, at: datetime
) -> bool:
    """The provider could not deliver a message it had accepted: the message becomes
    ``failed`` ("undelivered", the provider's code in ``last_error``) with a
    ``crm.message.failed`` timeline entry. Twilio's 21610 also suppresses the number. A report
    repeated or about a message we do not know changes nothing; True when it changed one."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(
                tenant_id=tenant_id,
                channel=medium,
                provider_message_id=provider_id,
                status=Status.SENT,
            )
            .select_related("profile")
            .first()
        )
        if message is None or not provider_id:
            return False
        message.status = Status.FAILED
        message.reason = "undelivered"
        message.last_error = f"{medium} error {error_code}"[:500]
        message.save(update_fields=["status", "reason", "last_error"])
        if medium == "sms" and error_code == "21610" and message.profile.phone:
            adapter = get_adapter(medium)
            record_bounce(
                tenant_id,
                adapter.suppression_key(message.profile.phone),
                SuppressionReason.STOP,
                at,
            )
        events.message_event(message, "failed", at)
    return True


def apply_twilio(tenant_id: int, form: dict[str, str], at: datetime) -> bool:
    """One request from Twilio: an incoming SMS (has ``Body``) or a status callback. True
    when it changed anything."""
    if "Body" in form:
        return handle_reply(tenant_id, "sms", form.get("From", ""), form["Body"], at) > 0
    if form.get("MessageStatus") in ("failed", "undelivered"):
        sid, code = form.get("MessageSid", ""), form.get("ErrorCode", "")
        return record_failure(tenant_id, "sms", sid, code, at)
    return False


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list in a webhook payload; anything of another shape is skipped, so a
    malformed delivery is ignored rather than crashing the drain that applies it."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _whatsapp_text(message: dict[str, Any]) -> str:
    """A typed reply or a tapped quick-reply button ("Stop promotions" buttons send STOP)."""
    if message.get("type") == "text":
        return str(_field(message.get("text"), "body") or "")
    if message.get("type") == "button":
        return str(_field(message.get("button"), "text") or "")
    return ""


def apply_whatsapp(tenant_id: int, payload: Any, at: datetime) -> bool:
    """Every reply and failed status in one Cloud API webhook delivery, as of ``at`` (when it
    reached us: Meta's whole-second timestamps could sort a STOP before a grant made in the
    same second). True when it changed anything."""
    changed = False
    for entry in _dicts(_field(payload, "entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            for message in _dicts(_field(value, "messages")):
                sender = str(message.get("from") or "")
                text = _whatsapp_text(message)
                changed |= handle_reply(tenant_id, "whatsapp", sender, text, at) > 0
            for status in _dicts(_field(value, "statuses")):
                if status.get("status") == "failed":
                    errors = _dicts(status.get("errors")) or [{}]
                    code = str(errors[0].get("code") or "")
                    sid = str(status.get("id") or "")
                    changed |= record_failure(tenant_id, "whatsapp", sid, code, at)
    return changed

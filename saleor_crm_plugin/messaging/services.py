"""The outbox's verbs: enqueue a message, send the due ones, suppress bounced addresses.

One outbox for every medium: what differs between e-mail, SMS and WhatsApp (address, consent
purpose, text, provider) is in the medium's adapter (``adapters.py``); claiming, leases,
consent, windows, the cap, retries and the timeline are here, once.

Exactly once, and what we accept
--------------------------------
A flow step becomes one row: ``dedupe_key`` is unique per tenant, so enqueuing it again (a
replayed event, a task run twice) returns the row already there. Senders claim due rows with
``FOR UPDATE SKIP LOCKED`` in a short transaction that sets ``status='sending'`` and a lease
(``claimed_at``), so two senders never claim one row. After the SMTP server accepts the message
the sender marks it sent, but only if it still holds the lease.

If a sender dies after claiming, the row stays ``sending``; once the lease
(``CRM_MESSAGE_LEASE_SECONDS``) has run out the next ``send_due`` puts it back in the queue
and it is sent by someone else. The one gap no outbox can close over SMTP is a death between
the server's "250 OK" and our commit (milliseconds): then the message is sent twice, with the
same Message-ID (``email.message_id``), which receiving servers and people's mail clients
recognise as one message. We accept that rather than the other choice, a message never sent.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.template import TemplateSyntaxError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ..conf import crm_settings
from ..privacy.services import has_consent
from ..privacy.tokens import make_token
from ..profiles.models import Profile
from ..service.cases import has_open_case
from ..tenants import store_settings
from . import events
from .adapters import ChannelAdapter, get_adapter
from .locales import resolve
from .models import Message, Purpose, Status, Suppression, SuppressionReason
from .schedule import customer_zone, marketing_due

log = logging.getLogger(__name__)

CONSENT_PURPOSE = "marketing_email"  # the consent ledger's purpose for marketing e-mail

# Due messages, oldest first: a range scan of the partial index crm_message_due (queued rows
# only), so its cost follows the queue's length, not the number of messages ever sent.
DUE = """
  SELECT id FROM crm_message
  WHERE status = 'queued' AND due_at <= %(now)s
  ORDER BY due_at
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
"""


def address_hash(tenant_id: int, address: str) -> str:
    """The same salted hash ``profiles.sql.EMAIL_HASH`` computes in SQL."""
    return hashlib.sha256(f"{tenant_id}:{address.strip().lower()}".encode()).hexdigest()


def suppression(tenant_id: int, address: str) -> str:
    """Why ``address`` (an e-mail, or a medium's phone key) is suppressed, or ""."""
    found = (
        Suppression.objects.filter(
            tenant_id=tenant_id, address_hash=address_hash(tenant_id, address)
        )
        .values_list("reason", flat=True)
        .first()
    )
    return found or ""


def is_suppressed(tenant_id: int, address: str) -> bool:
    return bool(suppression(tenant_id, address))


def record_bounce(tenant_id: int, address: str, kind: str, at: datetime | None = None) -> bool:
    """A hard bounce or a complaint: never e-mail the address again. Idempotent; True when it
    was newly suppressed. Soft bounces are not suppressions (the sender retries those).
    ``kind`` "stop" with a medium's phone key (``sms:+49...``) ends SMS to that number."""
    reason = SuppressionReason(kind)
    _, created = Suppression.objects.get_or_create(
        tenant_id=tenant_id,
        address_hash=address_hash(tenant_id, address),
        defaults={"reason": reason, "created_at": at or timezone.now()},
    )
    return created


def lift_stop(tenant_id: int, address: str) -> bool:
    """The customer texted START: a STOP suppression of the key ends (bounces stay)."""
    deleted, _ = Suppression.objects.filter(
        tenant_id=tenant_id,
        address_hash=address_hash(tenant_id, address),
        reason=SuppressionReason.STOP,
    ).delete()
    return deleted > 0


def _skip_reason(
    profile: Profile, purpose: str, store_channel: str, adapter: ChannelAdapter, kind: str
) -> str:
    """Why a message must not go to this customer on this medium now ("" when it may)."""
    address = adapter.address(profile)
    if not address or not profile.is_active:
        return "no_address"
    suppressed = suppression(profile.tenant_id, adapter.suppression_key(address))
    if suppressed:
        return "stopped" if suppressed == SuppressionReason.STOP else "suppressed"
    if purpose == Purpose.MARKETING and not has_consent(
        profile, adapter.consent_purpose, store_channel
    ):
        return "no_consent"
    if purpose == Purpose.MARKETING and has_open_case(profile.pk):
        # Support is talking to them about a problem: no promotions until it is resolved.
        return "open_case"
    return adapter.unavailable(profile, kind)


def refusal(
    profile: Profile, purpose: str, store_channel: str = "", kind: str = "", step: object = None
) -> str:
    """Why a message of ``kind`` would be refused for this customer now ("" when it would go
    on at least one of the media the store chose): lets a flow skip costly preparation, such
    as creating a voucher, for nothing."""
    media = store_settings.media_for(profile.tenant, kind, step) if kind else ("email",)
    reasons = [_skip_reason(profile, purpose, store_channel, get_adapter(m), kind) for m in media]
    return "" if "" in reasons else reasons[0]


def enqueue(
    profile: Profile,
    kind: str,
    *,
    purpose: Purpose,
    dedupe_key: str,
    data: dict[str, Any] | None = None,
    store_channel: str = "",
    not_before: datetime | None = None,
    now: datetime | None = None,
    media: tuple[str, ...] | None = None,
) -> Message:
    """Put a message in the outbox on each medium the store chose for ``kind`` (store setting
    ``message_media``; e-mail unless set), once per ``dedupe_key`` and medium.

    Returns the first message that is not skipped (else the first): a caller that ends a flow
    when "the outbox refused" ends it only when every medium refused. See ``enqueue_one``.
    """
    chosen = media or store_settings.media_for(profile.tenant, kind, (data or {}).get("step"))
    messages = [
        enqueue_one(
            profile,
            kind,
            purpose=purpose,
            dedupe_key=dedupe_key if medium == "email" else f"{dedupe_key}:{medium}",
            data=data,
            store_channel=store_channel,
            not_before=not_before,
            now=now,
            medium=medium,
        )
        for medium in chosen
    ]
    return next((m for m in messages if m.status != Status.SKIPPED), messages[0])


def enqueue_one(
    profile: Profile,
    kind: str,
    *,
    purpose: Purpose,
    dedupe_key: str,
    data: dict[str, Any] | None = None,
    store_channel: str = "",
    not_before: datetime | None = None,
    now: datetime | None = None,
    medium: str = "email",
) -> Message:
    """Put one message in the outbox, once per ``dedupe_key`` (a second call returns the first).

    Marketing messages go only with the medium's consent and to an unsuppressed address (else
    the row is ``skipped`` with the reason); their due time is the first instant the frequency
    cap (across media) and the customer's send window allow: they wait, never drop. Atomic,
    with a ``crm.message.queued`` or ``crm.message.skipped`` timeline entry.
    """
    now = now or timezone.now()
    earliest = max(now, not_before) if not_before else now
    adapter = get_adapter(medium)
    with transaction.atomic():
        # One enqueue at a time per customer, so two flows at once are spaced by the cap.
        Profile.objects.select_for_update().filter(pk=profile.pk).first()
        existing = Message.objects.filter(tenant_id=profile.tenant_id, dedupe_key=dedupe_key)
        if (found := existing.first()) is not None:
            return found
        reason = _skip_reason(profile, purpose, store_channel, adapter, kind)
        due, why = earliest, ""
        if not reason and purpose == Purpose.MARKETING:
            due, why = marketing_due(profile, store_channel, earliest)
        message = Message.objects.create(
            tenant_id=profile.tenant_id,
            profile=profile,
            channel=medium,
            store_channel=store_channel,
            purpose=purpose,
            kind=kind,
            locale=resolve(profile.language, store_channel),
            context=data or {},
            dedupe_key=dedupe_key,
            status=Status.SKIPPED if reason else Status.QUEUED,
            reason=reason or why,
            created_at=now,
            due_at=due,
        )
        events.message_event(message, "skipped" if reason else "queued", now)
    return message


def claim_due(now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due messages for this sender (committed before sending).

    First returns to the queue rows whose sender's lease ran out (a worker that died). The due
    query is a range scan on the partial index ``crm_message_due`` (queued rows only).
    """
    lease = timedelta(seconds=crm_settings.MESSAGE_LEASE_SECONDS)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE crm_message SET status = 'queued', reason = 'lease_expired' "
            "WHERE status = 'sending' AND claimed_at < %s",
            [now - lease],
        )
        cur.execute(
            f"""
            UPDATE crm_message SET status = 'sending', claimed_at = %(now)s,
                   attempts = attempts + 1
            WHERE id IN ({DUE})
            RETURNING id
            """,
            {"now": now, "limit": limit},
        )
        return [row[0] for row in cur.fetchall()]


def send_due(now: datetime | None = None, limit: int = 100) -> int:
    """Send what is due now; returns how many were sent. Safe to run in many workers at once."""
    now = now or timezone.now()
    sent = 0
    for pk in claim_due(now, limit):
        sent += deliver(pk, now)
    return sent


def _finish(message: Message, claimed_at: datetime, **changes: Any) -> bool:
    """Write the outcome only if we still hold the lease (nobody re-claimed the row)."""
    updated = Message.objects.filter(
        pk=message.pk, status=Status.SENDING, claimed_at=claimed_at
    ).update(**changes)
    for name, value in changes.items():
        setattr(message, name, value)
    return updated == 1


def unsubscribe_url(message: Message) -> str:
    token = make_token(
        message.tenant_id, message.profile_id, CONSENT_PURPOSE, message.store_channel
    )
    try:
        path = reverse("saleor_crm_webhooks:unsubscribe", args=[token])
    except NoReverseMatch:
        path = f"/unsubscribe/{token}"
    return f"{crm_settings.PUBLIC_URL}{path}"


def deliver(pk: int, now: datetime) -> int:
    """Send one claimed message through its medium's adapter, or skip, defer or fail it with
    the reason. 1 when sent."""
    message = Message.objects.select_related("profile__tenant").get(pk=pk)
    profile = message.profile
    claimed_at = message.claimed_at
    assert claimed_at is not None
    adapter = get_adapter(message.channel)
    # Consent and suppression again: a withdrawal, a STOP or a bounce since enqueue wins.
    reason = _skip_reason(profile, message.purpose, message.store_channel, adapter, message.kind)
    if reason:
        reason = "consent_withdrawn" if reason == "no_consent" else reason
        if _finish(message, claimed_at, status=Status.SKIPPED, reason=reason):
            events.message_event(message, "skipped", now)
        return 0
    if message.purpose == Purpose.MARKETING:
        due, why = marketing_due(profile, message.store_channel, now, sending=message.pk)
        if due > now:  # the sender ran late into the night, or another flow went first
            if _finish(
                message,
                claimed_at,
                status=Status.QUEUED,
                due_at=due,
                reason=why,
                attempts=message.attempts - 1,
            ):
                events.message_event(message, "deferred", now, f":{due.isoformat()}")
            return 0
    zone = customer_zone(profile, message.store_channel)
    link = unsubscribe_url(message) if message.purpose == Purpose.MARKETING else ""
    try:
        rendered = adapter.render(message, profile, unsubscribe_url=link, time_zone=zone)
    except (KeyError, ValueError, TypeError, TemplateSyntaxError) as exc:
        # A flow handed us data the text cannot use: retrying will not fix it.
        log.error("message %s cannot be rendered: %s", message.pk, type(exc).__name__)
        if _finish(
            message, claimed_at, status=Status.FAILED, reason="bad_data", last_error=repr(exc)[:500]
        ):
            events.message_event(message, "failed", now)
        return 0
    address = adapter.address(profile)
    outcome = adapter.send(message, profile, address, rendered)
    if outcome.outcome == "retry":
        return _retry(message, claimed_at, now, outcome.error, adapter.exhausted_reason)
    if outcome.outcome == "failed":
        if outcome.suppress is not None:
            record_bounce(
                message.tenant_id, adapter.suppression_key(address), outcome.suppress, now
            )
        if _finish(
            message,
            claimed_at,
            status=Status.FAILED,
            reason=outcome.reason,
            last_error=outcome.error[:500],
        ):
            events.message_event(message, "failed", now)
        return 0
    if _finish(
        message,
        claimed_at,
        status=Status.SENT,
        sent_at=now,
        provider_message_id=outcome.provider_id,
        reason="",
    ):
        events.message_event(message, "sent", now)
    else:
        log.warning("message %s was sent after its lease ran out", message.pk)
    return 1


def _retry(
    message: Message, claimed_at: datetime, now: datetime, error: str, exhausted: str
) -> int:
    """A temporary failure: try again later (1, 2, 4 ... minutes), up to the attempts limit."""
    log.warning("sending message %s failed (attempt %s): %s", message.pk, message.attempts, error)
    if message.attempts >= crm_settings.MESSAGE_MAX_ATTEMPTS:
        if _finish(message, claimed_at, status=Status.FAILED, reason=exhausted, last_error=error):
            events.message_event(message, "failed", now)
        return 0
    _finish(
        message,
        claimed_at,
        status=Status.QUEUED,
        due_at=now + timedelta(minutes=2 ** (message.attempts - 1)),
        reason="retry",
        last_error=error,
    )
    return 0

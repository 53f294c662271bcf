"""The outbox's verbs: enqueue a message, send the due ones, suppress bounced addresses.

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
import smtplib
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
from . import email, events
from .locales import resolve
from .models import Message, Purpose, Status, Suppression, SuppressionReason
from .render import render_for
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


def is_suppressed(tenant_id: int, address: str) -> bool:
    return Suppression.objects.filter(
        tenant_id=tenant_id, address_hash=address_hash(tenant_id, address)
    ).exists()


def record_bounce(tenant_id: int, address: str, kind: str, at: datetime | None = None) -> bool:
    """A hard bounce or a complaint: never e-mail the address again. Idempotent; True when it
    was newly suppressed. Soft bounces are not suppressions (the sender retries those)."""
    reason = SuppressionReason(kind)
    _, created = Suppression.objects.get_or_create(
        tenant_id=tenant_id,
        address_hash=address_hash(tenant_id, address),
        defaults={"reason": reason, "created_at": at or timezone.now()},
    )
    return created


def _skip_reason(profile: Profile, purpose: str, store_channel: str) -> str:
    """Why a message must not go to this customer now ("" when it may)."""
    if not profile.email or not profile.is_active:
        return "no_address"
    if is_suppressed(profile.tenant_id, profile.email):
        return "suppressed"
    if purpose == Purpose.MARKETING and not has_consent(profile, CONSENT_PURPOSE, store_channel):
        return "no_consent"
    if purpose == Purpose.MARKETING and has_open_case(profile.pk):
        # Support is talking to them about a problem: no promotions until it is resolved.
        return "open_case"
    return ""


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
) -> Message:
    """Put a message in the outbox, once per ``dedupe_key`` (a second call returns the first).

    Marketing messages go only with consent and to an unsuppressed address (else the row is
    ``skipped`` with the reason); their due time is the first instant the frequency cap and the
    customer's send window allow: they wait, never drop. Atomic, with a ``crm.message.queued``
    or ``crm.message.skipped`` timeline entry.
    """
    now = now or timezone.now()
    earliest = max(now, not_before) if not_before else now
    with transaction.atomic():
        # One enqueue at a time per customer, so two flows at once are spaced by the cap.
        Profile.objects.select_for_update().filter(pk=profile.pk).first()
        existing = Message.objects.filter(tenant_id=profile.tenant_id, dedupe_key=dedupe_key)
        if (found := existing.first()) is not None:
            return found
        reason = _skip_reason(profile, purpose, store_channel)
        due, why = earliest, ""
        if not reason and purpose == Purpose.MARKETING:
            due, why = marketing_due(profile, store_channel, earliest)
        message = Message.objects.create(
            tenant_id=profile.tenant_id,
            profile=profile,
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


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else "saleor-crm.invalid"


def deliver(pk: int, now: datetime) -> int:
    """Send one claimed message, or skip, defer or fail it with the reason. 1 when sent."""
    message = Message.objects.select_related("profile__tenant").get(pk=pk)
    profile = message.profile
    claimed_at = message.claimed_at
    assert claimed_at is not None
    # Consent and suppression again: a withdrawal or a bounce since enqueue wins.
    reason = _skip_reason(profile, message.purpose, message.store_channel)
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
        rendered = render_for(
            message.kind,
            message.locale,
            message.context,
            profile,
            unsubscribe_url=link,
            time_zone=zone,
        )
    except (KeyError, ValueError, TypeError, TemplateSyntaxError) as exc:
        # A flow handed us data the template cannot use: retrying will not fix it.
        log.error("message %s cannot be rendered: %s", message.pk, type(exc).__name__)
        if _finish(
            message, claimed_at, status=Status.FAILED, reason="bad_data", last_error=repr(exc)[:500]
        ):
            events.message_event(message, "failed", now)
        return 0
    sender = (
        store_settings.chosen(profile.tenant, message.store_channel, store_settings.SENDER)
        or crm_settings.MESSAGE_SENDER
    )
    msg_id = email.message_id(message.pk, message.tenant_id, _domain(sender))
    mail = email.build(rendered, profile.email, sender=sender, msg_id=msg_id, unsubscribe_url=link)
    try:
        mail.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            record_bounce(message.tenant_id, profile.email, SuppressionReason.BOUNCE, now)
            if _finish(message, claimed_at, status=Status.FAILED, reason="hard_bounce"):
                events.message_event(message, "failed", now)
            return 0
        return _retry(message, claimed_at, now, f"recipient refused: {codes}")
    except (smtplib.SMTPException, OSError) as exc:
        return _retry(message, claimed_at, now, type(exc).__name__)
    if _finish(
        message,
        claimed_at,
        status=Status.SENT,
        sent_at=now,
        provider_message_id=msg_id,
        reason="",
    ):
        events.message_event(message, "sent", now)
    else:
        log.warning("message %s was sent after its lease ran out", message.pk)
    return 1


def _retry(message: Message, claimed_at: datetime, now: datetime, error: str) -> int:
    """A temporary failure: try again later (1, 2, 4 ... minutes), up to the attempts limit."""
    log.warning("sending message %s failed (attempt %s): %s", message.pk, message.attempts, error)
    if message.attempts >= crm_settings.MESSAGE_MAX_ATTEMPTS:
        if _finish(
            message, claimed_at, status=Status.FAILED, reason="smtp_error", last_error=error
        ):
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

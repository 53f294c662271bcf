"""Recording storefront behaviour: consent first, deduplicated, rate-limited, joined later.

Events come from an anonymous first-party visitor id (no third-party cookies). They join the
customer's profile when the visitor signs in or gives an e-mail at checkout, and then appear on
the timeline. A visitor who declined tracking gets nothing stored at all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from ..inbox.saleor_payloads import normalize_email
from ..tenants.models import Tenant
from .errors import RateLimited, TrackingError

KINDS = ("product_viewed", "category_viewed", "searched", "added_to_cart")
MAX_BATCH = 50
PER_VISITOR_PER_MINUTE = 120
PER_IP_PER_MINUTE = 600
_ID = re.compile(r"^[A-Za-z0-9_.:=+/-]{8,64}$")


@dataclass(frozen=True)
class TrackInput:
    client_event_id: str
    kind: str
    occurred_at: datetime
    subject_id: str = ""
    query: str = ""
    channel: str = ""


@dataclass(frozen=True)
class TrackResult:
    accepted: int
    duplicates: int
    stored: bool


def _check(visitor_id: str, events: Sequence[TrackInput]) -> None:
    if not _ID.match(visitor_id):
        raise TrackingError("visitorId must be 8-64 letters, digits or -_.:=+/", code="INVALID")
    if len(events) > MAX_BATCH:
        raise TrackingError(f"send at most {MAX_BATCH} events per call", code="TOO_MANY")
    now = timezone.now()
    for event in events:
        if event.kind not in KINDS:
            raise TrackingError(f"unknown event kind {event.kind!r}; use one of {KINDS}")
        if not _ID.match(event.client_event_id):
            raise TrackingError("clientEventId must be 8-64 letters, digits or -_.:=+/")
        if not now - timedelta(days=7) <= event.occurred_at <= now + timedelta(minutes=5):
            raise TrackingError("occurredAt must be within the last 7 days")


def _spend(key: str, amount: int, limit: int) -> None:
    """Fixed one-minute windows in the shared cache (Redis in production)."""
    window = f"crm:track:{key}:{int(time.time() // 60)}"
    cache.add(window, 0, timeout=120)
    if cache.incr(window, amount) > limit:
        raise RateLimited("Too many tracking events; slow down and retry in a minute.")


def record_events(
    tenant: Tenant,
    visitor_id: str,
    events: Sequence[TrackInput],
    *,
    consent: bool,
    ip: str = "",
    user_id: str | None = None,
    email: str = "",
) -> TrackResult:
    """Store a batch of storefront events; idempotent per (visitor, client event id)."""
    if not consent:
        return TrackResult(accepted=0, duplicates=0, stored=False)
    _check(visitor_id, events)
    _spend(f"v:{tenant.pk}:{visitor_id}", len(events), PER_VISITOR_PER_MINUTE)
    if ip:
        _spend(f"ip:{tenant.pk}:{ip}", len(events), PER_IP_PER_MINUTE)
    unique = list({e.client_event_id: e for e in events}.values())
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_tracked_event (tenant_id, visitor_id, client_event_id, kind, subject_id,
              query, channel, occurred_at, received_at)
            SELECT %s, %s, c, k, s, q, ch, t, now()
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                        %s::timestamptz[]) AS x(c, k, s, q, ch, t)
            ON CONFLICT (tenant_id, visitor_id, client_event_id) DO NOTHING
            """,
            [
                tenant.pk,
                visitor_id,
                [e.client_event_id for e in unique],
                [e.kind for e in unique],
                [e.subject_id[:128] for e in unique],
                [e.query[:256] for e in unique],
                [e.channel[:128] for e in unique],
                [e.occurred_at for e in unique],
            ],
        )
        accepted = cur.rowcount
        if user_id or email:
            link_visitor(tenant, visitor_id, user_id=user_id, email=email)
    return TrackResult(accepted=accepted, duplicates=len(events) - accepted, stored=True)


def link_visitor(tenant: Tenant, visitor_id: str, *, user_id: str | None, email: str) -> int:
    """Join a visitor's events to the customer's profile and put them on the timeline.

    The profile is the account's when signed in, else the one for the e-mail given at checkout;
    no profile is created here (a visitor becomes a customer through Saleor, not through us).
    """
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE crm_tracked_event e SET profile_id = p.id
            FROM (
              SELECT id FROM crm_profile
              WHERE tenant_id = %(tenant)s
                AND ((%(user)s::text IS NOT NULL AND user_id = %(user)s)
                     OR (%(user)s::text IS NULL AND email = %(email)s AND %(email)s <> ''))
              ORDER BY user_id IS NULL, id LIMIT 1
            ) p
            WHERE e.tenant_id = %(tenant)s AND e.visitor_id = %(visitor)s
              AND e.profile_id IS DISTINCT FROM p.id
            """,
            {
                "tenant": tenant.pk,
                "user": user_id,
                "email": normalize_email(email),
                "visitor": visitor_id,
            },
        )
        linked = cur.rowcount
        cur.execute(
            """
            INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id, data,
                                      dedupe_key)
            SELECT e.tenant_id, e.profile_id, 'crm.behaviour.' || e.kind, e.occurred_at,
                   e.subject_id, jsonb_build_object('query', e.query, 'channel', e.channel),
                   'track:' || e.id
            FROM crm_tracked_event e
            WHERE e.tenant_id = %(tenant)s AND e.visitor_id = %(visitor)s
              AND e.profile_id IS NOT NULL
            ON CONFLICT (tenant_id, dedupe_key) DO UPDATE SET profile_id = EXCLUDED.profile_id
            """,
            {"tenant": tenant.pk, "visitor": visitor_id},
        )
    return linked

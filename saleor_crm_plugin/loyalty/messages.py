"""Loyalty messages through the outbox: a tier reached, points about to expire.

Both are service messages about the customer's own programme (transactional: no marketing
consent needed, a suppressed address still gets nothing), each queued once per change or per
expiry date, whatever number of times the daily tasks run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from ..conf import crm_settings
from ..messaging import services as outbox
from ..messaging.models import Purpose
from ..profiles.models import Profile
from ..tenants.models import Tenant
from . import earning
from .ledger import DEBITS_SQL, LOTS_SQL
from .tiers import Move, TierRules

TIER_KIND = "tier_changed"
EXPIRY_KIND = "points_expiring"


def announce_tier_changes(
    tenant: Tenant, moves: Iterable[Move], rules: TierRules, now: datetime | None = None
) -> int:
    """Queue a message for each customer who reached a tier (``CRM_LOYALTY_TIER_MESSAGES``:
    "up", the default, only for moves up; "all" also for moves down; "none"). Returns how many
    were queued."""
    which = crm_settings.LOYALTY_TIER_MESSAGES
    if which == "none":
        return 0
    moment = now or timezone.now()
    chosen = [
        m
        for m in moves
        if m.to_tier and (which == "all" or rules.rank(m.to_tier) > rules.rank(m.from_tier))
    ]
    profiles = Profile.objects.select_related("tenant").in_bulk([m.profile_id for m in chosen])
    queued = 0
    for move in chosen:
        profile = profiles.get(move.profile_id)
        if profile is None or not profile.email:
            continue
        outbox.enqueue(
            profile,
            TIER_KIND,
            purpose=Purpose.TRANSACTIONAL,
            dedupe_key=f"tier:{profile.pk}:{move.to_tier}:{moment.date().isoformat()}",
            data={"tier": move.to_tier},
            now=moment,
        )
        queued += 1
    return queued


def remind_expiring_points(tenant: Tenant, now: datetime | None = None) -> int:
    """Daily: one reminder per customer and expiry date, ``CRM_LOYALTY_EXPIRY_REMINDER_DAYS``
    before points expire (lot expiry, first in first out, exactly as ``expire_points`` will
    count them). Returns how many were queued."""
    days, ahead = earning.rules_for(tenant).expiry_days, crm_settings.LOYALTY_EXPIRY_REMINDER_DAYS
    if days <= 0 or ahead <= 0:
        return 0
    moment = now or timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            f"""
            WITH lots AS ({LOTS_SQL}),
            debits AS ({DEBITS_SQL}),
            soon AS (
              SELECT l.profile_id,
                     sum(l.value) FILTER (
                       WHERE l.available_at + make_interval(days => %(days)s) <= %(until)s
                     ) AS by_then,
                     min(l.available_at + make_interval(days => %(days)s)) FILTER (
                       WHERE l.available_at + make_interval(days => %(days)s) > %(now)s
                         AND l.available_at + make_interval(days => %(days)s) <= %(until)s
                     ) AS first_expiry
              FROM lots l GROUP BY l.profile_id
            )
            SELECT s.profile_id, s.by_then - coalesce(d.amount, 0), s.first_expiry
            FROM soon s LEFT JOIN debits d ON d.profile_id = s.profile_id
            WHERE s.first_expiry IS NOT NULL AND s.by_then - coalesce(d.amount, 0) > 0
            """,
            {
                "tenant": tenant.pk,
                "days": days,
                "now": moment,
                "until": moment + timedelta(days=ahead),
            },
        )
        due = cur.fetchall()
    profiles = Profile.objects.select_related("tenant").in_bulk([row[0] for row in due])
    for profile_id, points, expires_at in due:
        profile = profiles[profile_id]
        outbox.enqueue(
            profile,
            EXPIRY_KIND,
            purpose=Purpose.TRANSACTIONAL,
            dedupe_key=f"points-expiring:{profile_id}:{expires_at.date().isoformat()}",
            data={"points": int(points), "expires_on": expires_at.date().isoformat()},
            now=moment,
        )
    return len(due)

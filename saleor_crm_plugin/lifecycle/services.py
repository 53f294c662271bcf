"""Lifecycle messages queued as the events that start them are applied."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from ..conf import crm_settings
from ..messaging import services as outbox
from ..messaging.models import Purpose
from ..profiles.models import Profile
from ..tenants.models import Tenant

WELCOME_KIND = "welcome"


def welcome_new_accounts(
    tenant: Tenant, user_ids: Iterable[str], now: datetime | None = None
) -> int:
    """Queue the welcome e-mail for accounts opened in the last ``CRM_WELCOME_WITHIN_HOURS``.

    Once per account (the dedupe key is the Saleor user id), and never for accounts opened
    long ago: a backfill or a replay of old customers must not greet the whole customer base.
    A service message about the account just opened (transactional: no marketing consent
    needed; a suppressed address still gets nothing). Returns how many were queued.
    """
    hours = crm_settings.WELCOME_WITHIN_HOURS
    ids = sorted({u for u in user_ids if u})
    if hours <= 0 or not ids:
        return 0
    moment = now or timezone.now()
    fresh = Profile.objects.select_related("tenant").filter(
        tenant=tenant,
        user_id__in=ids,
        joined_at__gte=moment - timedelta(hours=hours),
        joined_at__lte=moment + timedelta(minutes=5),
    )
    queued = 0
    for profile in fresh.exclude(email=""):
        outbox.enqueue(
            profile,
            WELCOME_KIND,
            purpose=Purpose.TRANSACTIONAL,
            dedupe_key=f"welcome:{profile.user_id}",
            now=moment,
        )
        queued += 1
    return queued

"""Stage history: every change of a customer's lifecycle stage, and from when it is complete.

The changes themselves are written by database triggers on ``crm_customer_scores`` (migration
``stage_history``): whichever statement upserts the scores (the recompute, the per-event refresh)
records the changes it made, once each, in the same transaction. What the database cannot know is
from when a store's history is complete: stages stored before the triggers existed were never
recorded as changes. ``note_history_start`` fixes that moment at the store's first full
recompute; from then on every customer's stage at any moment follows from the changes and the
current scores (``kpis/stage_history.py``).
"""

from __future__ import annotations

from datetime import datetime

from ..tenants.models import Tenant
from .models import StageHistoryStart


def note_history_start(tenant: Tenant, now: datetime) -> datetime:
    """Record ``now`` (a full recompute just scored everyone as of it) as the start of the
    store's stage history, unless a start is recorded already; returns the start. Idempotent."""
    start, _ = StageHistoryStart.objects.get_or_create(tenant=tenant, defaults={"since": now})
    return start.since


def history_since(tenant: Tenant) -> datetime | None:
    """From when the store's stage history is complete; None before its first recompute."""
    start = StageHistoryStart.objects.filter(tenant=tenant).first()
    return start.since if start is not None else None

"""Reads of feedback for staff: a filtered list, and each customer's summary."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, Q

from ..tenants.models import Tenant
from .models import Feedback


@dataclass(frozen=True)
class FeedbackFilter:
    max_rating: int | None = None
    min_rating: int | None = None
    flagged: bool | None = None


@dataclass(frozen=True)
class FeedbackPage:
    items: list[Feedback]
    cursors: list[str]
    has_next: bool
    total: int


@dataclass(frozen=True)
class FeedbackSummary:
    count: int
    average_rating: float | None
    flagged_count: int
    latest: Feedback | None


def _encode(item: Feedback) -> str:
    raw = json.dumps([item.updated_at.isoformat(), item.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(stamp), int(pk)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc


def feedback_page(
    tenant: Tenant, filters: FeedbackFilter, *, first: int = 20, after: str | None = None
) -> FeedbackPage:
    """Newest (last saved) first, by keyset on (updated_at, id): deep pages cost the same.
    ValueError for a cursor we did not make."""
    rows = Feedback.objects.filter(tenant=tenant).select_related("profile")
    if filters.max_rating is not None:
        rows = rows.filter(rating__lte=filters.max_rating)
    if filters.min_rating is not None:
        rows = rows.filter(rating__gte=filters.min_rating)
    if filters.flagged is not None:
        rows = rows.filter(flagged=filters.flagged)
    total = rows.count()
    if after:
        stamp, pk = _decode(after)
        rows = rows.filter(Q(updated_at__lt=stamp) | Q(updated_at=stamp, pk__lt=pk))
    items = list(rows.order_by("-updated_at", "-id")[: first + 1])
    page = items[:first]
    return FeedbackPage(
        items=page, cursors=[_encode(f) for f in page], has_next=len(items) > first, total=total
    )


def summaries(profile_ids: Sequence[int]) -> dict[int, FeedbackSummary]:
    """Count, average, flagged count and newest feedback of many customers, in two queries."""
    ids = list(profile_ids)
    figures = {
        row["profile_id"]: row
        for row in Feedback.objects.filter(profile_id__in=ids)
        .values("profile_id")
        .annotate(n=Count("id"), avg=Avg("rating"), flagged=Count("id", filter=Q(flagged=True)))
    }
    latest = {
        f.profile_id: f
        for f in Feedback.objects.filter(profile_id__in=ids)
        .order_by("profile_id", "-updated_at", "-id")
        .distinct("profile_id")
    }
    return {
        pid: FeedbackSummary(
            count=row["n"],
            average_rating=round(float(row["avg"]), 2) if row["avg"] is not None else None,
            flagged_count=row["flagged"],
            latest=latest.get(pid),
        )
        for pid, row in figures.items()
    }

"""Reads over notes, tags and cases, returning plain values; batched for lists of customers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection

from ..tenants.models import Tenant
from .models import OPEN_STATUSES, Note, ServiceCase, Tag


def notes_by_profile(profile_ids: Sequence[int]) -> dict[int, list[Note]]:
    """Each customer's notes, newest first, in one query."""
    found: dict[int, list[Note]] = defaultdict(list)
    rows = Note.objects.filter(profile_id__in=list(profile_ids)).order_by("-created_at", "-id")
    for note in rows:
        found[note.profile_id].append(note)
    return found


def tags_by_profile(profile_ids: Sequence[int]) -> dict[int, list[Tag]]:
    """Each customer's tags in alphabetical order, in one query."""
    found: dict[int, list[Tag]] = defaultdict(list)
    for tag in Tag.objects.filter(profile_id__in=list(profile_ids)).order_by("tag"):
        found[tag.profile_id].append(tag)
    return found


def cases_by_profile(profile_ids: Sequence[int]) -> dict[int, list[ServiceCase]]:
    found: dict[int, list[ServiceCase]] = defaultdict(list)
    rows = ServiceCase.objects.filter(profile_id__in=list(profile_ids)).order_by(
        "-opened_at", "-id"
    )
    for case in rows:
        found[case.profile_id].append(case)
    return found


def cases(
    tenant: Tenant,
    *,
    statuses: Sequence[str] = (),
    assignee_user_id: str = "",
    profile_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[ServiceCase]:
    """The store's cases, soonest due first (what support works through)."""
    rows = ServiceCase.objects.filter(tenant=tenant).select_related("profile__tenant")
    if statuses:
        rows = rows.filter(status__in=list(statuses))
    if assignee_user_id:
        rows = rows.filter(assignee_user_id=assignee_user_id)
    if profile_id is not None:
        rows = rows.filter(profile_id=profile_id)
    return list(rows.order_by("due_at", "id")[offset : offset + limit])


@dataclass(frozen=True)
class CaseStats:
    open_now: int
    overdue_now: int
    opened: int  # in the period
    resolved: int  # in the period
    median_hours_to_resolve: float | None  # of the cases resolved in the period
    by_type: dict[str, int]  # opened in the period, per type


def case_stats(tenant: Tenant, start: datetime, end: datetime, now: datetime) -> CaseStats:
    """Open cases now, and cases opened and resolved in [start, end) with the median time from
    opening to resolution (PostgreSQL's ``percentile_cont``), in two statements."""
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "open": list(OPEN_STATUSES),
        "now": now,
        "start": start,
        "end": end,
    }
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT
              count(*) FILTER (WHERE status = ANY(%(open)s)),
              count(*) FILTER (WHERE status = ANY(%(open)s) AND due_at < %(now)s),
              count(*) FILTER (WHERE opened_at >= %(start)s AND opened_at < %(end)s),
              count(*) FILTER (WHERE resolved_at >= %(start)s AND resolved_at < %(end)s),
              percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM resolved_at - opened_at))
                FILTER (WHERE resolved_at >= %(start)s AND resolved_at < %(end)s)
            FROM crm_case WHERE tenant_id = %(tenant)s
            """,
            params,
        )
        row = cur.fetchone()
        cur.execute(
            """
            SELECT type, count(*) FROM crm_case
            WHERE tenant_id = %(tenant)s AND opened_at >= %(start)s AND opened_at < %(end)s
            GROUP BY type ORDER BY type
            """,
            params,
        )
        by_type = {kind: n for kind, n in cur.fetchall()}
    assert row is not None
    return CaseStats(
        open_now=row[0],
        overdue_now=row[1],
        opened=row[2],
        resolved=row[3],
        median_hours_to_resolve=None if row[4] is None else round(float(row[4]) / 3600, 2),
        by_type=by_type,
    )


def zone_or_none(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None

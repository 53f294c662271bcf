"""Reads of segments: preview counts, members, history, CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..money.currencies import from_minor
from ..scaleout.replica import read_only
from ..tenants.models import Tenant
from .models import Segment
from .rules import compile_rules
from .services import matching_sql

PREVIEW_WORK_MEM = "32MB"


@dataclass(frozen=True)
class Preview:
    count: int
    first: list[int]  # profile ids, largest spend first


def preview(tenant: Tenant, rules: Any, now: datetime, limit: int) -> Preview:
    """How many customers rules select now, and the first of them; changes nothing.
    Raises ``RuleError`` for rules that do not check out.

    One statement gives both (``count(*) OVER ()`` before the limit): the preview is live, and
    running the rules twice, once to count and once for the first, doubled its cost. It orders
    the matching profiles as it finds them (no second join with ``crm_profile``)."""
    compiled = compile_rules(rules, tenant.base_currency)
    params = {**compiled.params, "tenant": tenant.pk, "now": now, "limit": max(limit, 1)}
    with read_only() as conn, conn.cursor() as cur:
        # Period rules group the period's orders per customer: in memory, not spilled to disk.
        cur.execute(f"SET LOCAL work_mem = '{PREVIEW_WORK_MEM}'")
        # Without parallel workers: in a parallel plan each worker built the whole grouped
        # pass of a period again (0.45 s against 0.25 s serial at 200,000 customers).
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute(
            matching_sql(compiled, "p.id, count(*) OVER ()")
            + " ORDER BY p.spent_gross_minor - p.refunded_minor DESC, p.id LIMIT %(limit)s",
            params,
        )
        rows = cur.fetchall()
    return Preview(count=rows[0][1] if rows else 0, first=[r[0] for r in rows[:limit]])


@dataclass(frozen=True)
class Stay:
    profile_id: int
    email: str
    joined_at: datetime
    left_at: datetime | None


def history(segment: Segment, *, offset: int = 0, limit: int = 100) -> list[Stay]:
    """Every stay in the segment, newest first (joined or left)."""
    with read_only() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT m.profile_id, p.email, m.joined_at, m.left_at FROM crm_segment_member m "
            "JOIN crm_profile p ON p.id = m.profile_id WHERE m.segment_id = %s "
            "ORDER BY greatest(m.joined_at, COALESCE(m.left_at, m.joined_at)) DESC, m.id DESC "
            "OFFSET %s LIMIT %s",
            [segment.pk, offset, limit],
        )
        return [Stay(*row) for row in cur.fetchall()]


def member_ids(segment: Segment, *, offset: int = 0, limit: int = 100) -> list[int]:
    """Current members, in the order they joined."""
    with read_only() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT profile_id FROM crm_segment_member WHERE segment_id = %s AND left_at IS NULL "
            "ORDER BY joined_at, profile_id OFFSET %s LIMIT %s",
            [segment.pk, offset, limit],
        )
        return [row[0] for row in cur.fetchall()]


CSV_COLUMNS = (
    "email", "first_name", "last_name", "country", "language", "orders_count", "spent",
    "currency", "rfm_group", "stage", "joined_segment_at",
)  # fmt: skip


def export_csv(segment: Segment) -> str:
    """The current members as CSV (spend in the base currency, major units), for mailing tools
    and spreadsheets. Cells starting with = + - @ are prefixed with ' so a spreadsheet does
    not run them as formulas."""
    tenant = segment.tenant
    with read_only() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT p.email, p.first_name, p.last_name, p.country, p.language, p.orders_count, "
            "p.spent_gross_minor - p.refunded_minor, COALESCE(s.rfm_group, ''), "
            "COALESCE(s.stage, ''), m.joined_at FROM crm_segment_member m "
            "JOIN crm_profile p ON p.id = m.profile_id "
            "LEFT JOIN crm_customer_scores s ON s.profile_id = p.id "
            "WHERE m.segment_id = %s AND m.left_at IS NULL ORDER BY m.joined_at, p.id",
            [segment.pk],
        )
        rows = cur.fetchall()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for email, first, last, country, lang, orders, spent, group, stage, joined in rows:
        writer.writerow(
            [_safe(email), _safe(first), _safe(last), country, lang, orders,
             from_minor(spent, tenant.base_currency), tenant.base_currency, group, stage,
             joined.isoformat()]
        )  # fmt: skip
    return out.getvalue()


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text

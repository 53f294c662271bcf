"""The verbs of segments: save and delete segments, refresh their members, recompute a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from ..predictions.recommendations import compute_recommendations
from ..predictions.services import predict_store
from ..tenants.models import Tenant
from .history import note_history_start
from .models import LifecycleSettings, Segment
from .rules import Compiled, RuleError, compile_rules
from .scores import STEPS, Lifecycle, Progress, recompute


class SegmentError(ValueError):
    """A segment that cannot be saved as asked, with a stable code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Recomputed:
    changed: int  # customers whose scores changed
    segments: int
    prediction_method: str = ""  # bgnbd or heuristic (docs/predictions.md)


def matching_sql(compiled: Compiled, select: str = "p.id") -> str:
    """The ids (or ``select``, over ``p`` and ``s``) of the profiles a compiled rule set
    selects (parameters ``tenant``, ``now``)."""
    return (
        f"SELECT {select} FROM crm_profile p "
        "LEFT JOIN crm_customer_scores s ON s.profile_id = p.id "
        f"{' '.join(compiled.joins)} WHERE p.tenant_id = %(tenant)s AND {compiled.sql}"
    )


_REFRESH = """
WITH matching AS ({matching}),
gone AS (
  UPDATE crm_segment_member m SET left_at = %(now)s
  WHERE m.segment_id = %(segment)s AND m.left_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM matching x WHERE x.id = m.profile_id)
  RETURNING 1
),
came AS (
  INSERT INTO crm_segment_member (segment_id, profile_id, joined_at)
  SELECT %(segment)s, x.id, %(now)s FROM matching x
  ON CONFLICT (segment_id, profile_id) WHERE left_at IS NULL DO NOTHING
  RETURNING 1
)
UPDATE crm_segment SET refreshed_at = %(now)s,
  members_count = (SELECT count(*) FROM matching)
WHERE id = %(segment)s
RETURNING (SELECT count(*) FROM came), (SELECT count(*) FROM gone)
"""


def refresh_members(segment: Segment, now: datetime) -> tuple[int, int]:
    """Bring the segment's members in line with its rules as of ``now``: who matches and was
    not in joins (a new stay), who was in and no longer matches leaves (``left_at`` set).
    One statement; running it twice changes nothing. Returns (joined, left)."""
    compiled = compile_rules(segment.rules, segment.tenant.base_currency)
    with connection.cursor() as cur:
        cur.execute(
            _REFRESH.format(matching=matching_sql(compiled)),
            {**compiled.params, "tenant": segment.tenant_id, "now": now, "segment": segment.pk},
        )
        row = cur.fetchone()
    segment.refresh_from_db(fields=["members_count", "refreshed_at"])
    return (row[0], row[1]) if row else (0, 0)


def save_segment(
    tenant: Tenant, *, name: str, rules: Any, now: datetime, segment_id: int | None = None
) -> Segment:
    """Create a segment (or change one) and fill its members at once.

    Atomic: rules that do not check out raise ``RuleError`` and nothing is saved. Changing the
    rules keeps the history: who no longer matches leaves, who now matches joins.
    """
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise SegmentError("Give the segment a name of 1 to 128 characters.", "invalid_name")
    compile_rules(rules, tenant.base_currency)  # check before touching anything
    with transaction.atomic():
        if segment_id is None:
            segment = Segment(tenant=tenant, name=name, rules=rules)
        else:
            found = Segment.objects.select_for_update().filter(tenant=tenant, pk=segment_id)
            segment = found.first() or _missing()
            segment.name, segment.rules = name, rules
        try:
            with transaction.atomic():
                segment.save()
        except IntegrityError:
            raise SegmentError(
                f"A segment named {name!r} exists already.", "duplicate_name"
            ) from None
        refresh_members(segment, now)
    return segment


def _missing() -> Segment:
    raise SegmentError("No such segment.", "not_found")


def delete_segment(tenant: Tenant, segment_id: int) -> None:
    """Delete a segment with its membership history."""
    deleted, _ = Segment.objects.filter(tenant=tenant, pk=segment_id).delete()
    if not deleted:
        _missing()


def refresh_segments(tenant: Tenant, now: datetime) -> int:
    """Refresh every segment of the store; returns how many there are. A segment whose rules no
    longer check out (e.g. a field was renamed) is skipped and keeps its members."""
    count = 0
    for segment in Segment.objects.filter(tenant=tenant).select_related("tenant"):
        try:
            refresh_members(segment, now)
        except RuleError:
            continue
        count += 1
    return count


def recompute_store(
    tenant: Tenant, now: datetime, progress: Progress | None = None, from_orders: bool = False
) -> Recomputed:
    """Re-score every customer of the store as of ``now`` (atomic, safe to repeat; the first
    one starts the store's complete stage history), refit its predictions and recommendations,
    then refresh its segments against the new scores."""
    report = progress or (lambda step, done, total: None)
    changed = recompute(tenant, now, progress, from_orders)
    note_history_start(tenant, now)
    report("predictions", len(STEPS), len(STEPS))
    model = predict_store(tenant, now)
    report("recommendations", len(STEPS), len(STEPS))
    compute_recommendations(tenant, now)
    with transaction.atomic():
        segments = refresh_segments(tenant, now)
    return Recomputed(changed=changed, segments=segments, prediction_method=model.method)


def save_lifecycle(tenant: Tenant, lifecycle: Lifecycle) -> LifecycleSettings:
    """Set the store's own lifecycle thresholds; they apply from the next scoring (an order
    arriving, or the recompute). Thresholds must grow: at risk < dormant < lost."""
    if lifecycle.mode not in ("cadence", "days"):
        raise SegmentError("The mode is cadence or days.", "invalid_lifecycle")
    steps = (lifecycle.at_risk_after, lifecycle.dormant_after, lifecycle.lost_after)
    if not 0 < steps[0] < steps[1] < steps[2] or steps[2] > 10000:
        raise SegmentError(
            "Give growing thresholds above 0: at risk, then dormant, then lost "
            "(e.g. 2, 4, 8 times the cadence, or 90, 180, 365 days).",
            "invalid_lifecycle",
        )
    found, _ = LifecycleSettings.objects.update_or_create(
        tenant=tenant,
        defaults={
            "mode": lifecycle.mode,
            "at_risk_after": steps[0],
            "dormant_after": steps[1],
            "lost_after": steps[2],
        },
    )
    return found

"""Points movements on the customer's timeline, so support sees them next to the orders and
messages that caused them (staff adjustments write their own entry, with who and why)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

# Ledger kind -> timeline kind.
KINDS = {
    "earn": "crm.points.earned",
    "reverse": "crm.points.reversed",
    "void": "crm.points.voided",
    "redeem": "crm.points.redeemed",
    "expire": "crm.points.expired",
    "bonus": "crm.points.bonus",
    "hold": "crm.points.held",
    "release": "crm.points.released",
}

_INSERT = """
INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id, data, dedupe_key)
SELECT e.tenant_id, e.profile_id, k.timeline_kind, e.created_at, left(e.source_id, 128),
  jsonb_build_object('points', e.points, 'source', e.source, 'available_at', e.available_at),
  'points:' || e.id
FROM crm_points_entry e
JOIN unnest(%(kinds)s::text[], %(timeline_kinds)s::text[]) AS k(kind, timeline_kind)
  ON k.kind = e.kind
WHERE e.tenant_id = %(tenant)s
  AND (%(all_profiles)s OR e.profile_id = ANY(%(profiles)s))
ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
"""


def record_points(
    tenant_id: int, profile_ids: Iterable[int] | None, kinds: Iterable[str] = tuple(KINDS)
) -> int:
    """Put these customers' (None: the whole store's) ledger entries of ``kinds`` on their
    timelines, each once (the dedupe key is the entry), in one statement; returns how many
    were new. Idempotent, so callers run it after each ledger write without bookkeeping."""
    chosen = [k for k in kinds if k in KINDS]
    profiles = sorted(set(profile_ids)) if profile_ids is not None else []
    if not chosen or (profile_ids is not None and not profiles):
        return 0
    with connection.cursor() as cur:
        cur.execute(
            _INSERT,
            {
                "tenant": tenant_id,
                "kinds": chosen,
                "timeline_kinds": [KINDS[k] for k in chosen],
                "all_profiles": profile_ids is None,
                "profiles": profiles,
            },
        )
        return int(cur.rowcount)

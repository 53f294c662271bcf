"""The verbs of segments: recompute a store's scores and refresh its segments' members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..tenants.models import Tenant
from .scores import Progress, recompute


@dataclass(frozen=True)
class Recomputed:
    scored: int


def recompute_store(tenant: Tenant, now: datetime, progress: Progress | None = None) -> Recomputed:
    """Re-score every customer of the store as of ``now`` (atomic, safe to repeat)."""
    return Recomputed(scored=recompute(tenant, now, progress))

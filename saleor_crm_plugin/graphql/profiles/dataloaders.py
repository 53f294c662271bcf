from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promise import Promise
from promise.dataloader import DataLoader

from ...profiles.queries import timelines

TIMELINE_LIMIT = 50


class TimelineByProfileIdLoader(DataLoader):  # type: ignore[misc]
    """The newest timeline entries of many profiles in one query (no N+1 in lists)."""

    context_key = "timeline_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = timelines(keys, limit=TIMELINE_LIMIT)
        return Promise.resolve([found.get(key, []) for key in keys])

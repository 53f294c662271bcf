from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promise import Promise
from promise.dataloader import DataLoader

from ...segments.models import CustomerScores, StageChange


class ScoresByProfileIdLoader(DataLoader):  # type: ignore[misc]
    """The scores of many profiles in one query (a page of crmCustomers)."""

    context_key = "scores_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = {s.profile_id: s for s in CustomerScores.objects.filter(profile_id__in=keys)}
        return Promise.resolve([found.get(key) for key in keys])


class StageHistoryByProfileIdLoader(DataLoader):  # type: ignore[misc]
    """The stage changes of many profiles in one query, oldest first per profile."""

    context_key = "stage_history_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found: dict[int, list[StageChange]] = {key: [] for key in keys}
        for change in StageChange.objects.filter(profile_id__in=keys).order_by("changed_at", "id"):
            found[change.profile_id].append(change)
        return Promise.resolve([found[key] for key in keys])

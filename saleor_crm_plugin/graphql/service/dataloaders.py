from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promise import Promise
from promise.dataloader import DataLoader

from ...service.queries import cases_by_profile, notes_by_profile, tags_by_profile


class NotesByProfileIdLoader(DataLoader):  # type: ignore[misc]
    context_key = "notes_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = notes_by_profile(keys)
        return Promise.resolve([found.get(key, []) for key in keys])


class TagsByProfileIdLoader(DataLoader):  # type: ignore[misc]
    context_key = "tags_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = tags_by_profile(keys)
        return Promise.resolve([found.get(key, []) for key in keys])


class CasesByProfileIdLoader(DataLoader):  # type: ignore[misc]
    context_key = "cases_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = cases_by_profile(keys)
        return Promise.resolve([found.get(key, []) for key in keys])

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promise import Promise
from promise.dataloader import DataLoader

from ...profiles.queries import profiles_by_user_keys, timeline_pages
from ...tenants.models import Tenant


class TimelinePageByProfileIdLoader(DataLoader):  # type: ignore[misc]
    """The first timeline page of many profiles, keyed by (profile id, first, kinds): one query
    per distinct (first, kinds) in the request, so a list of customers is no N+1."""

    context_key = "timeline_page_by_profile_id"

    def batch_load_fn(self, keys: Sequence[tuple[int, int, tuple[str, ...]]]) -> Any:
        found: dict[tuple[int, int, tuple[str, ...]], Any] = {}
        for first, kinds in {(k[1], k[2]) for k in keys}:
            ids = [k[0] for k in keys if (k[1], k[2]) == (first, kinds)]
            pages = timeline_pages(ids, first=first, kinds=kinds)
            found.update({(pk, first, kinds): page for pk, page in pages.items()})
        return Promise.resolve([found[key] for key in keys])


class ProfileByUserKeyLoader(DataLoader):  # type: ignore[misc]
    """Profiles by (tenant, "id" | "email", value), for a page of federation entities at once."""

    context_key = "profile_by_user_key"

    def batch_load_fn(self, keys: Sequence[tuple[Tenant, str, str]]) -> Any:
        found: dict[tuple[int, str, str], Any] = {}
        for tenant in {key[0].pk: key[0] for key in keys}.values():
            mine = [key for key in keys if key[0].pk == tenant.pk]
            by_id, by_email = profiles_by_user_keys(
                tenant,
                user_ids=[v for _, kind, v in mine if kind == "id"],
                emails=[v for _, kind, v in mine if kind == "email"],
            )
            found.update({(tenant.pk, "id", k): p for k, p in by_id.items()})
            found.update({(tenant.pk, "email", k): p for k, p in by_email.items()})
        return Promise.resolve([found.get((t.pk, kind, v)) for t, kind, v in keys])

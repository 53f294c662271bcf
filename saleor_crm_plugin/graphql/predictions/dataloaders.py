from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from promise import Promise
from promise.dataloader import DataLoader

from ...predictions.models import CustomerPrediction
from ...predictions.recommendations import Recommendation, recommendations_for
from ...tenants.models import Tenant


class PredictionByProfileIdLoader(DataLoader):  # type: ignore[misc]
    """The predictions of many profiles in one query (a page of crmCustomers)."""

    context_key = "prediction_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = {
            p.profile_id: p
            for p in CustomerPrediction.objects.filter(profile_id__in=keys).select_related("tenant")
        }
        return Promise.resolve([found.get(key) for key in keys])


class RecommendationsByProfileIdLoader(DataLoader):  # type: ignore[misc]
    """Keys are (tenant id, profile id, how many): one query per store and page size."""

    context_key = "recommendations_by_profile_id"

    def batch_load_fn(self, keys: Sequence[tuple[int, int, int]]) -> Any:
        now = timezone.now()
        tenants = Tenant.objects.in_bulk({tenant for tenant, _, _ in keys})
        groups: dict[tuple[int, int], list[int]] = {}
        for tenant, profile, first in keys:
            groups.setdefault((tenant, first), []).append(profile)
        found: dict[tuple[int, int, int], list[Recommendation]] = {}
        for (tenant, first), profiles in groups.items():
            for profile, items in recommendations_for(
                tenants[tenant], profiles, first, now
            ).items():
                found[(tenant, profile, first)] = items
        return Promise.resolve([found.get(key, []) for key in keys])

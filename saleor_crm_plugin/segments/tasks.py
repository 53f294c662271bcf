"""Celery entry points for segments and scores."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from ..tenants.models import Tenant
from . import services


@shared_task(name="saleor_crm.segments.recompute", ignore_result=True)
def recompute_all() -> int:
    """Nightly: re-score every active store (quintiles move as stores grow, recency ages) and
    refresh its segments' members. Returns how many customers' scores changed."""
    now = timezone.now()
    return sum(
        services.recompute_store(tenant, now).changed
        for tenant in Tenant.objects.filter(is_active=True)
    )

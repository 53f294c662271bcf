"""Celery entry points for scale-out upkeep."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from ..conf import crm_settings
from .partitions import ensure_partitions


@shared_task(name="saleor_crm.scaleout.partitions", ignore_result=True)
def create_partitions_ahead() -> int:
    """Daily: keep ``CRM_PARTITION_MONTHS_AHEAD`` months of inbox partitions ready (a no-op
    while the inbox is not partitioned). Safe to run twice: existing months are skipped."""
    return len(ensure_partitions(timezone.now(), crm_settings.PARTITION_MONTHS_AHEAD))

"""Celery entry points for privacy."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task
from django.db import OperationalError

from .retention import enforce_retention


@shared_task(
    name="saleor_crm.privacy.retention",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def apply_retention() -> dict[str, int]:
    """Nightly: apply the retention limits; safe to run twice (the second run finds nothing)."""
    return asdict(enforce_retention())

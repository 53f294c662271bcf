"""Celery entry point for campaigns."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from ..tenants.host import host_writer
from . import release


@shared_task(
    name="saleor_crm.campaigns.release",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def release_campaign_waves() -> int:
    """Every minute: move due waves into the outbox. Safe in several workers at once (due
    campaigns are claimed with SKIP LOCKED, each message has a dedupe key); returns how many
    waves were released."""
    with host_writer():
        return release.release_due()

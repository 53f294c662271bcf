"""Celery entry points for the inbox: a few lines each, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from ..profiles.traces import scrub_pending
from ..tenants.host import host_writer
from .services import drain

DRAIN_TASK = "saleor_crm.inbox.drain"
SCRUB_TASK = "saleor_crm.inbox.scrub"


# Both tasks are idempotent: acknowledged after they ran, requeued if their worker dies, retried
# while the database is away.
_AT_LEAST_ONCE: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
}


@shared_task(name=DRAIN_TASK, **_AT_LEAST_ONCE)
def drain_inbox(tenant_id: int | None = None) -> int:
    """Apply pending deliveries; a second concurrent run just finds nothing left to claim."""
    with host_writer():
        return drain(tenant_id=tenant_id).claimed


@shared_task(name=SCRUB_TASK, **_AT_LEAST_ONCE)
def scrub_deliveries(tenant_id: int | None = None) -> int:
    """Empty the stored bodies naming customers the inbox deleted (queued by the batch that
    applied the deletion); a second run finds nothing queued."""
    with host_writer():
        return scrub_pending(tenant_id)


@shared_task(name="saleor_crm.inbox.sweep", ignore_result=True)
def sweep_inbox() -> int:
    """Periodic safety net: apply whatever no drain task picked up (e.g. the broker was down
    when the delivery arrived), and run the scrubs no scrub task ran."""
    with host_writer():
        claimed = drain().claimed
        scrub_pending()
        return claimed

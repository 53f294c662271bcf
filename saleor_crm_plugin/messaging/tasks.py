"""Celery entry points for messaging."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from ..tenants.host import host_writer
from . import services


@shared_task(
    name="saleor_crm.messaging.send_due",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_due_messages() -> int:
    """Every minute: send the messages that are due. Safe to run in several workers at once
    (rows are claimed with SKIP LOCKED); returns how many were sent."""
    with host_writer():
        return services.send_due()

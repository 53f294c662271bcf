"""Celery entry points for feedback."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from ..tenants.host import host_writer
from ..tenants.models import Tenant
from . import requests


@shared_task(
    name="saleor_crm.feedback.request",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def request_feedback() -> int:
    """Hourly: queue the post-purchase e-mail for orders now due, in every active store.
    Safe to run twice (one message per order). Returns how many were queued."""
    with host_writer():
        return sum(
            requests.request_feedback(tenant) for tenant in Tenant.objects.filter(is_active=True)
        )

"""Celery entry points for lifecycle messages."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from ..tenants.host import host_writer
from ..tenants.models import Tenant
from .winback import send_winbacks


@shared_task(
    name="saleor_crm.lifecycle.winback",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def run_winback() -> int:
    """Every hour: win-back e-mails for customers who became dormant. Safe to run twice (one
    message per dormant spell, by its dedupe key)."""
    with host_writer():
        return sum(send_winbacks(tenant) for tenant in Tenant.objects.filter(is_active=True))

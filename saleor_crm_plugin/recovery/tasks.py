"""Celery entry point for recovery: one pass over every store every few minutes."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from ..tenants import store_settings
from ..tenants.host import host_writer
from ..tenants.models import Tenant
from . import services
from .messages import send_step


def schedule_for(tenant: Tenant) -> services.Schedule:
    """The store's recovery steps per channel, and the channels switched off."""
    found = store_settings.for_tenant(tenant)
    return services.Schedule(
        default=found.recovery_delays_hours,
        channels={slug: c.recovery_delays_hours for slug, c in found.channels.items()},
        disabled=frozenset(slug for slug, c in found.channels.items() if not c.enabled),
    )


def run_store(tenant: Tenant) -> int:
    """Start flows for carts and browsing left behind, then queue every step that is due."""
    schedule = schedule_for(tenant)
    services.start_flows(tenant, schedule)
    services.start_browse_flows(tenant, schedule.disabled)
    return services.run_due_steps(tenant, send_step)


@shared_task(
    name="saleor_crm.recovery.run",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def run_recovery() -> int:
    """Every five minutes: safe in several workers at once (due flows are claimed with SKIP
    LOCKED, each step is recorded once). Returns how many steps were queued."""
    with host_writer():
        return sum(run_store(tenant) for tenant in Tenant.objects.filter(is_active=True))

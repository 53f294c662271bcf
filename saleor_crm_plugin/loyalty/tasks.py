"""Celery entry points for loyalty."""

from __future__ import annotations

from celery import shared_task

from ..tenants.models import Tenant
from . import tiers


@shared_task(name="saleor_crm.loyalty.apply_tiers", ignore_result=True)
def apply_tiers() -> int:
    """Daily: apply each store's tier rules, so upgrades land and grace periods run out
    without anyone pressing a button. Returns how many customers moved."""
    moved = 0
    for tenant in Tenant.objects.filter(is_active=True):
        program = tiers.current_program(tenant)
        if program is not None:
            moved += len(tiers.apply(tenant, program))
    return moved

"""Celery entry points for loyalty."""

from __future__ import annotations

from celery import shared_task

from ..tenants.host import host_writer
from ..tenants.models import Tenant
from . import ledger, tiers
from .metadata import MetadataError, write_tiers


@shared_task(name="saleor_crm.loyalty.apply_tiers", ignore_result=True)
def apply_tiers() -> int:
    """Daily: apply each store's tier rules, so upgrades land and grace periods run out
    without anyone pressing a button. Returns how many customers moved."""
    moved = 0
    with host_writer():
        for tenant in Tenant.objects.filter(is_active=True):
            program = tiers.current_program(tenant)
            if program is not None:
                moved += len(tiers.apply(tenant, program))
    return moved


@shared_task(name="saleor_crm.loyalty.birthdays", ignore_result=True)
def grant_birthday_bonuses() -> int:
    """Daily: birthday bonuses. Returns how many customers got one."""
    with host_writer():
        return sum(
            ledger.grant_birthday_bonuses(tenant)
            for tenant in Tenant.objects.filter(is_active=True)
        )


@shared_task(name="saleor_crm.loyalty.expire_points", ignore_result=True)
def expire_points() -> int:
    """Daily: expire points as each store's settings say. Returns the points expired."""
    return sum(ledger.expire_points(tenant) for tenant in Tenant.objects.filter(is_active=True))


@shared_task(
    name="saleor_crm.loyalty.write_tier_metadata",
    autoretry_for=(MetadataError,),
    retry_backoff=True,
    max_retries=6,
    ignore_result=True,
)
def write_tier_metadata(tenant_id: int, changes: list[tuple[str, str]]) -> int:
    """Saleor's private metadata follows a tier change (after it is committed)."""
    with host_writer():
        tenant = Tenant.objects.get(pk=tenant_id)
        return write_tiers(tenant, [(str(u), str(t)) for u, t in changes])

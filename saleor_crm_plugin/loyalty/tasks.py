"""Celery entry points for loyalty."""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task

from ..tenants.host import host_writer
from ..tenants.models import Tenant
from . import ledger, messages, tiers
from .metadata import MetadataError, write_tiers


def _for_each_store(work: Callable[[Tenant], int]) -> int:
    """Run ``work`` for every active store, announcing the writes as Saleor requires."""
    with host_writer():
        return sum(work(tenant) for tenant in Tenant.objects.filter(is_active=True))


def _apply_current_tiers(tenant: Tenant) -> int:
    program = tiers.current_program(tenant)
    return len(tiers.apply(tenant, program)) if program is not None else 0


@shared_task(name="saleor_crm.loyalty.apply_tiers", ignore_result=True)
def apply_tiers() -> int:
    """Daily: apply each store's tier rules, so upgrades land and grace periods run out
    without anyone pressing a button. Returns how many customers moved."""
    return _for_each_store(_apply_current_tiers)


@shared_task(name="saleor_crm.loyalty.birthdays", ignore_result=True)
def grant_birthday_bonuses() -> int:
    """Daily: birthday bonuses. Returns how many customers got one."""
    return _for_each_store(ledger.grant_birthday_bonuses)


@shared_task(name="saleor_crm.loyalty.expire_points", ignore_result=True)
def expire_points() -> int:
    """Daily: expire points as each store's settings say. Returns the points expired."""
    return _for_each_store(ledger.expire_points)


@shared_task(name="saleor_crm.loyalty.expiry_reminders", ignore_result=True)
def remind_expiring_points() -> int:
    """Daily: remind customers whose points expire soon. Returns how many were reminded."""
    return _for_each_store(messages.remind_expiring_points)


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

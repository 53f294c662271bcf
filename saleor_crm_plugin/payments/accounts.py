"""Each tenant's Stripe credentials: stored encrypted, or taken from settings as a fallback."""

from __future__ import annotations

from dataclasses import dataclass

from ..conf import crm_settings
from ..tenants import crypto
from ..tenants.models import Tenant
from .models import StripeAccount


@dataclass(frozen=True)
class StripeCredentials:
    api_key: str
    webhook_secret: str


def set_account(
    tenant: Tenant, *, api_key: str | None = None, webhook_secret: str | None = None, by: str = ""
) -> StripeAccount:
    """Store a tenant's Stripe secret key and/or webhook signing secret (None keeps the stored
    one, "" clears it). Encrypted at rest: a database dump alone must not move anyone's money."""
    account, _ = StripeAccount.objects.get_or_create(tenant=tenant)
    if api_key is not None:
        account.api_key_encrypted = crypto.encrypt(api_key.strip())
    if webhook_secret is not None:
        account.webhook_secret_encrypted = crypto.encrypt(webhook_secret.strip())
    account.updated_by = by
    account.save()
    return account


def credentials(tenant: Tenant) -> StripeCredentials:
    """The tenant's own credentials, each falling back to ``CRM_STRIPE_*`` when not set."""
    account = StripeAccount.objects.filter(tenant=tenant).first()
    api_key = crypto.decrypt(account.api_key_encrypted) if account else ""
    secret = crypto.decrypt(account.webhook_secret_encrypted) if account else ""
    return StripeCredentials(
        api_key=api_key or crm_settings.STRIPE_API_KEY,
        webhook_secret=secret or crm_settings.STRIPE_WEBHOOK_SECRET,
    )

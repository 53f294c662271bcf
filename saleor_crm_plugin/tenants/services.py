"""Registering Saleor instances and reading their app tokens."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from ..conf import crm_settings
from ..money.currencies import validate_currency
from . import crypto
from .errors import NotAllowed
from .models import Tenant


def normalize_api_url(url: str) -> str:
    """Saleor sends its API URL with a trailing slash: ``/graphql`` and ``/graphql/`` are one."""
    url = url.strip()
    return url if url.endswith("/") else url + "/"


def default_jwks_url(api_url: str) -> str:
    """Saleor serves its JWKS at the domain root, next to the API."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwks.json"


def check_allowed(api_url: str) -> str:
    """The normalized URL if this Saleor may install the app; raises ``NotAllowed``."""
    api_url = normalize_api_url(api_url)
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NotAllowed(f"{api_url!r} is not a Saleor API URL")
    allowed = [normalize_api_url(u) for u in crm_settings.ALLOWED_SALEOR_API_URLS]
    if allowed and api_url not in allowed:
        raise NotAllowed(f"{api_url} is not in CRM_ALLOWED_SALEOR_API_URLS")
    return api_url


def register_tenant(
    *,
    api_url: str,
    app_token: str,
    domain: str = "",
    base_currency: str | None = None,
    jwks: dict[str, Any] | None = None,
) -> Tenant:
    """Store (or replace) the app token of a Saleor instance; idempotent per API URL.

    Reinstalling the app issues a new token, so the newest registration wins. The base currency
    is fixed when the tenant is created: every stored base amount depends on it. A JWKS can be
    given up front (the demo and the plugin know it); otherwise it is fetched on first use.
    """
    api_url = check_allowed(api_url)
    currency = validate_currency((base_currency or crm_settings.BASE_CURRENCY).upper())
    with transaction.atomic():
        tenant, _created = Tenant.objects.select_for_update().get_or_create(
            saleor_api_url=api_url,
            defaults={"base_currency": currency, "saleor_domain": domain},
        )
        tenant.app_token_encrypted = crypto.encrypt(app_token)
        tenant.saleor_domain = domain or tenant.saleor_domain
        tenant.is_active = True
        if jwks is not None:
            tenant.jwks = jwks
        tenant.save()
    return tenant


def app_token(tenant: Tenant) -> str:
    return crypto.decrypt(tenant.app_token_encrypted)


def tenant_for_api_url(api_url: str) -> Tenant | None:
    return Tenant.objects.filter(saleor_api_url=normalize_api_url(api_url), is_active=True).first()


# How long a process trusts the tenant it last read for an API URL.
TENANT_CACHE_SECONDS = 5.0
_recent: dict[str, tuple[Tenant, float]] = {}


def recent_tenant_for_api_url(api_url: str) -> Tenant | None:
    """``tenant_for_api_url``, remembered by this process for ``TENANT_CACHE_SECONDS``.

    Every webhook needs its tenant, and a webhook's cost is mostly its database round trips.
    A change saved in this process is seen at once (``forget_tenants`` runs on save); one made
    by another process (an uninstall, a reinstall) shows within the delay. Callers that would
    refuse a request for what the tenant holds (an unknown signing key) must look again with
    ``tenant_for_api_url`` before refusing. Unknown URLs are not remembered, so made-up URLs
    cannot grow the memory.
    """
    key = normalize_api_url(api_url)
    now = time.monotonic()
    hit = _recent.get(key)
    if hit is not None and hit[1] > now:
        return hit[0]
    tenant = tenant_for_api_url(key)
    if tenant is None:
        _recent.pop(key, None)
    else:
        _recent[key] = (tenant, now + TENANT_CACHE_SECONDS)
    return tenant


def remembered_tenant(api_url: str, *, stale: bool = False) -> Tenant | None:
    """The tenant this process remembers for ``api_url``, without reading the database; None
    when it has none (or, unless ``stale``, when the memory is older than the delay), so an
    async caller can settle the common case on its event loop."""
    hit = _recent.get(normalize_api_url(api_url))
    if hit is None or (not stale and hit[1] <= time.monotonic()):
        return None
    return hit[0]


# What a caller holding its own connection reads to tell that a remembered tenant still holds:
# nothing that verifying a delivery depends on has changed (``still_current``).
TENANT_STATE_SQL = "SELECT saleor_api_url, is_active, jwks FROM crm_tenant WHERE id = %s"


def still_current(tenant: Tenant, row: tuple[Any, ...] | None) -> bool:
    """Whether ``row`` (``TENANT_STATE_SQL``'s) shows ``tenant`` as this process remembers it;
    then it is remembered for another ``TENANT_CACHE_SECONDS``."""
    if row is None or not row[1] or row[0] != tenant.saleor_api_url:
        return False
    jwks = json.loads(row[2]) if isinstance(row[2], str) else row[2]
    if jwks != tenant.jwks:
        return False
    _recent[normalize_api_url(tenant.saleor_api_url)] = (
        tenant,
        time.monotonic() + TENANT_CACHE_SECONDS,
    )
    return True


def forget_tenants(**_: Any) -> None:
    """Drop the remembered tenants (a tenant was saved or deleted in this process)."""
    _recent.clear()


PLUGIN_TENANT_URL = "plugin://saleor/"


def plugin_tenant(base_currency: str) -> Tenant:
    """The single tenant of the in-process plugin (it lives inside one Saleor)."""
    tenant = Tenant.objects.filter(saleor_api_url=PLUGIN_TENANT_URL).first()
    if tenant is None:
        tenant, _ = Tenant.objects.get_or_create(
            saleor_api_url=PLUGIN_TENANT_URL,
            defaults={"base_currency": validate_currency(base_currency.upper())},
        )
    return tenant

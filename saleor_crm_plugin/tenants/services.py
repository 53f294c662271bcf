"""Registering Saleor instances and reading their app tokens."""

from __future__ import annotations

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

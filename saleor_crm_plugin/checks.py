"""System checks for settings that only make sense together."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from .conf import crm_settings
from .money.currencies import is_known_currency


@register()
def check_base_currency(app_configs: Any, **kwargs: Any) -> list[Error]:
    if not is_known_currency(crm_settings.BASE_CURRENCY):
        return [
            Error(
                f"CRM_BASE_CURRENCY {crm_settings.BASE_CURRENCY!r} is not an ISO 4217 currency.",
                id="saleor_crm_plugin.E001",
            )
        ]
    return []

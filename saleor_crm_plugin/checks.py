"""System checks for settings that only make sense together."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from .conf import crm_settings
from .money.currencies import is_known_currency


def _is_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@register()
def check_channel_time_zones(app_configs: Any, **kwargs: Any) -> list[Error]:
    return [
        Error(
            f"CRM_CHANNEL_TIME_ZONES[{slug!r}] = {zone!r} is not an IANA time zone.",
            id="saleor_crm_plugin.E002",
        )
        for slug, zone in crm_settings.CHANNEL_TIME_ZONES.items()
        if not _is_zone(zone)
    ]


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


@register()
def check_points_per_currency(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        rules = crm_settings.LOYALTY_POINTS_PER_CURRENCY
    except (TypeError, ValueError, ArithmeticError) as exc:
        return [
            Error(
                f"CRM_LOYALTY_POINTS_PER_CURRENCY is not a mapping of currency to number: {exc}",
                id="saleor_crm_plugin.E003",
            )
        ]
    return [
        Error(
            f"CRM_LOYALTY_POINTS_PER_CURRENCY[{code!r}] = {rate}: give an ISO 4217 currency and "
            "a number of points above 0.",
            id="saleor_crm_plugin.E003",
        )
        for code, rate in rules.items()
        if not is_known_currency(code) or not (rate.is_finite() and rate > 0)
    ]


@register()
def check_reward_kinds(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        kinds = crm_settings.LOYALTY_REWARD_KINDS
    except ValueError as exc:
        return [Error(f"CRM_LOYALTY_REWARDS: {exc}", id="saleor_crm_plugin.E004")]
    return [
        Error(
            f"CRM_LOYALTY_REWARDS: {points}:{kind} is neither a voucher nor a gift_card.",
            id="saleor_crm_plugin.E004",
        )
        for points, kind in kinds.items()
        if kind not in ("voucher", "gift_card")
    ]


@register()
def check_send_windows(app_configs: Any, **kwargs: Any) -> list[Error]:
    """A send window that cannot be read would hold every marketing message forever."""
    from .messaging.windows import WindowError, parse_window

    found = []
    windows = {"CRM_SEND_WINDOW": crm_settings.SEND_WINDOW}
    for country, rules in crm_settings.SEND_WINDOW_COUNTRIES.items():
        if "window" in rules:
            windows[f"CRM_SEND_WINDOW_COUNTRIES[{country!r}]"] = str(rules["window"])
    for name, text in windows.items():
        try:
            parse_window(text)
        except WindowError as exc:
            found.append(Error(f"{name}: {exc}.", id="saleor_crm_plugin.E005"))
    return found


@register()
def check_analytics_database(app_configs: Any, **kwargs: Any) -> list[Error]:
    from django.conf import settings

    alias = crm_settings.ANALYTICS_DATABASE
    if alias in settings.DATABASES:
        return []
    return [
        Error(
            f"CRM_ANALYTICS_DATABASE {alias!r} is not a database alias in DATABASES.",
            hint=f"Known aliases: {', '.join(sorted(settings.DATABASES))}.",
            id="saleor_crm_plugin.E030",
        )
    ]

"""The plugin's settings in Saleor's dashboard, as plain data once, at the door.

Saleor hands a plugin a list of ``{"name", "value"}`` items; everything else in the package
takes a ``PluginSettings`` (the way Saleor's Sendgrid plugin builds its configuration object).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..money.currencies import is_known_currency

BASE_CURRENCY = "base_currency"
RECOVERY_DELAYS = "recovery_delays_hours"
SENDER = "sender_address"
CHECKOUT_URL = "checkout_url_template"
SEND_WINDOW = "send_window"

DEFAULT_CONFIGURATION = [
    {"name": BASE_CURRENCY, "value": "USD"},
    {"name": RECOVERY_DELAYS, "value": "1,24,72"},
    {"name": SENDER, "value": ""},
    {"name": CHECKOUT_URL, "value": ""},
    {"name": SEND_WINDOW, "value": "09:00-20:00"},
]

HELP = {
    BASE_CURRENCY: (
        "Base currency",
        "Customer spend is reported in this currency (ISO 4217, e.g. EUR), "
        "converted at the exchange rate of each order's day. Set it once, before the first order.",
    ),
    RECOVERY_DELAYS: (
        "Recovery steps (hours)",
        "When to remind a shopper of an abandoned checkout, in hours "
        "after their last change, e.g. 1,24,72.",
    ),
    SENDER: ("Sender address", "The From address of CRM e-mails, e.g. Shop <hello@shop.com>."),
    CHECKOUT_URL: (
        "Storefront checkout URL",
        "Where recovery e-mails send the shopper back to; {token} is "
        "replaced by the checkout token, e.g. https://shop.com/checkout?token={token}.",
    ),
    SEND_WINDOW: (
        "Send window",
        "Marketing messages go out only between these local times of the "
        "customer, e.g. 09:00-20:00.",
    ),
}

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_EMAIL = re.compile(r"^(.*<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")


@dataclass(frozen=True)
class PluginSettings:
    base_currency: str
    recovery_delays_hours: tuple[int, ...]
    sender_address: str
    checkout_url_template: str
    send_window: tuple[str, str]


def as_dict(items: list[dict[str, Any]] | None) -> dict[str, str]:
    values = {item["name"]: item["value"] for item in DEFAULT_CONFIGURATION}
    values.update({i["name"]: i.get("value") or "" for i in items or [] if "name" in i})
    return {k: str(v).strip() for k, v in values.items()}


def errors(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """Field -> a message a merchant understands; empty when the settings are usable."""
    values = as_dict(items)
    found: dict[str, str] = {}
    if not is_known_currency(values[BASE_CURRENCY].upper()):
        found[BASE_CURRENCY] = (
            f"'{values[BASE_CURRENCY]}' is not a currency code such as EUR or USD."
        )
    try:
        delays = [int(x) for x in values[RECOVERY_DELAYS].split(",") if x.strip()]
        if not delays or any(d <= 0 for d in delays) or delays != sorted(set(delays)):
            raise ValueError
    except ValueError:
        found[RECOVERY_DELAYS] = "Give increasing whole hours separated by commas, e.g. 1,24,72."
    if values[SENDER] and not _EMAIL.match(values[SENDER]):
        found[SENDER] = "Give an e-mail address, e.g. Shop <hello@shop.com>."
    url = values[CHECKOUT_URL]
    if url and (not url.startswith(("https://", "http://")) or "{token}" not in url):
        found[CHECKOUT_URL] = "Give an http(s) URL containing {token}."
    window = _WINDOW.match(values[SEND_WINDOW])
    if not window or window.group(1) + window.group(2) >= window.group(3) + window.group(4):
        found[SEND_WINDOW] = "Give a start and end time like 09:00-20:00 (start before end)."
    return found


def parse(items: list[dict[str, Any]] | None) -> PluginSettings:
    """Settings as plain data; call ``errors`` first (Saleor does, when a merchant saves)."""
    values = as_dict(items)
    start, _, end = values[SEND_WINDOW].partition("-")
    return PluginSettings(
        base_currency=values[BASE_CURRENCY].upper(),
        recovery_delays_hours=tuple(
            int(x) for x in values[RECOVERY_DELAYS].split(",") if x.strip()
        ),
        sender_address=values[SENDER],
        checkout_url_template=values[CHECKOUT_URL],
        send_window=(start, end),
    )

"""A store's CRM settings (recovery steps, sender, checkout link, send window, per channel).

Kept as Saleor keeps a plugin's settings: a list of ``{"name", "value"}`` items. The plugin door
gets them from Saleor's dashboard form and copies them to the tenant; the app door saves them
through GraphQL. Everything else in the package reads them as a ``StoreSettings`` (the way
Saleor's Sendgrid plugin builds its configuration object), through ``for_tenant``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ..money.currencies import is_known_currency
from .models import Tenant

BASE_CURRENCY = "base_currency"
RECOVERY_DELAYS = "recovery_delays_hours"
SENDER = "sender_address"
CHECKOUT_URL = "checkout_url_template"
SEND_WINDOW = "send_window"
CHANNELS = "channel_settings"
ENABLED = "enabled"
RECOVERY_DISCOUNTS = "recovery_discounts"
WINBACK_DISCOUNT = "winback_discount"
MEDIA = "message_media"
WHATSAPP_TEMPLATES = "whatsapp_templates"
MEDIA_NAMES = ("email", "sms", "whatsapp")

DEFAULT_CONFIGURATION = [
    {"name": BASE_CURRENCY, "value": "USD"},
    {"name": RECOVERY_DELAYS, "value": "1,24,72"},
    {"name": SENDER, "value": ""},
    {"name": CHECKOUT_URL, "value": ""},
    {"name": SEND_WINDOW, "value": "09:00-20:00"},
    {"name": CHANNELS, "value": ""},
    {"name": RECOVERY_DISCOUNTS, "value": ""},
    {"name": WINBACK_DISCOUNT, "value": ""},
    {"name": MEDIA, "value": ""},
    {"name": WHATSAPP_TEMPLATES, "value": ""},
]

# What a channel may set differently from the store. The base currency is one per store: every
# customer's spend across channels is added up in it.
PER_CHANNEL = (
    ENABLED,
    RECOVERY_DELAYS,
    SENDER,
    CHECKOUT_URL,
    SEND_WINDOW,
    RECOVERY_DISCOUNTS,
    WINBACK_DISCOUNT,
)

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
    CHANNELS: (
        "Per-channel settings",
        "Optional, for channels that differ from the settings above: JSON by channel slug, e.g. "
        '{"uk": {"sender_address": "Shop UK <uk@shop.com>", "send_window": "08:00-21:00"}, '
        '"wholesale": {"enabled": false}}. A channel may set enabled, recovery_delays_hours, '
        "sender_address, checkout_url_template, send_window, recovery_discounts and "
        "winback_discount.",
    ),
    RECOVERY_DISCOUNTS: (
        "Recovery discounts",
        "An optional personal discount per recovery step, in the order of the steps, separated "
        "by commas: - for none, 10%/7 for 10 percent valid 7 days, 5.00/3 for 5.00 in the "
        "channel's currency valid 3 days; e.g. -,-,10%/7 gives a code in the third reminder.",
    ),
    WINBACK_DISCOUNT: (
        "Win-back discount",
        "An optional personal discount in the e-mail to customers who became dormant, e.g. "
        "15%/14 or 10.00/14 (value/validity days); empty for none.",
    ),
    MEDIA: (
        "Message media",
        "Optional: how each kind of message travels, as JSON from message kind to a list of "
        'email, sms and whatsapp; "kind#step" for one recovery step, e.g. '
        '{"abandoned_checkout#2": ["sms"], "points_expiring": ["email", "whatsapp"]}. '
        "Kinds not listed go by e-mail.",
    ),
    WHATSAPP_TEMPLATES: (
        "WhatsApp templates",
        "Your approved WhatsApp message template for each message kind, as JSON, e.g. "
        '{"abandoned_checkout": "cart_reminder"}. WhatsApp only delivers messages a business '
        "starts with an approved template.",
    ),
}

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_DISCOUNT = re.compile(r"^(\d+(?:\.\d{1,3})?)(%?)(?:/(\d{1,3}))?$")
_EMAIL = re.compile(r"^(.*<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")


@dataclass(frozen=True)
class Discount:
    """A personal discount in a message: a percentage, or a fixed amount in the channel's
    currency, valid ``days`` days from when the code is created."""

    percentage: bool
    value: Decimal
    days: int


@dataclass(frozen=True)
class ChannelSettings:
    """What applies to one channel: the store's settings with the channel's own on top."""

    enabled: bool
    recovery_delays_hours: tuple[int, ...]
    sender_address: str
    checkout_url_template: str
    send_window: tuple[str, str]
    recovery_discounts: tuple[Discount | None, ...] = ()
    winback_discount: Discount | None = None

    def step_discount(self, step: int) -> Discount | None:
        """The discount of recovery step ``step`` (0-based), or None."""
        return self.recovery_discounts[step] if step < len(self.recovery_discounts) else None


@dataclass(frozen=True)
class StoreSettings:
    base_currency: str
    recovery_delays_hours: tuple[int, ...]
    sender_address: str
    checkout_url_template: str
    send_window: tuple[str, str]
    channels: dict[str, ChannelSettings] = field(default_factory=dict)
    recovery_discounts: tuple[Discount | None, ...] = ()
    winback_discount: Discount | None = None

    def for_channel(self, slug: str | None) -> ChannelSettings:
        """A channel without settings of its own follows the store's."""
        if slug and slug in self.channels:
            return self.channels[slug]
        return ChannelSettings(
            enabled=True,
            recovery_delays_hours=self.recovery_delays_hours,
            sender_address=self.sender_address,
            checkout_url_template=self.checkout_url_template,
            send_window=self.send_window,
            recovery_discounts=self.recovery_discounts,
            winback_discount=self.winback_discount,
        )


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
    found.update(_value_errors(values))
    problem = _channel_errors(values[CHANNELS])
    if problem:
        found[CHANNELS] = problem
    for name, check in ((MEDIA, media_map), (WHATSAPP_TEMPLATES, whatsapp_templates)):
        try:
            check(values[name])
        except ValueError as exc:
            found[name] = str(exc)
    return found


def _json_object(text: str, example: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"This is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(data, dict):
        raise ValueError(f"Give a JSON object, e.g. {example}.")
    return data


_KIND_KEY = re.compile(r"^[a-z_]+(#[1-9]\d*)?$")
_TEMPLATE = re.compile(r"^[a-z0-9_]{1,512}$")


def media_map(text: str) -> dict[str, tuple[str, ...]]:
    """``message_media`` as {kind or "kind#step": media}; ValueError says what is wrong."""
    data = _json_object(text, '{"abandoned_checkout#2": ["sms"]}')
    found: dict[str, tuple[str, ...]] = {}
    for key, media in data.items():
        if not _KIND_KEY.match(key):
            raise ValueError(f"'{key}' is not a message kind such as abandoned_checkout#2.")
        if (
            not isinstance(media, list)
            or not media
            or not all(m in MEDIA_NAMES for m in media)
            or len(set(media)) != len(media)
        ):
            raise ValueError(f"'{key}': give a list of email, sms, whatsapp, e.g. [\"sms\"].")
        found[key] = tuple(media)
    return found


def whatsapp_templates(text: str) -> dict[str, str]:
    """``whatsapp_templates`` as {kind: template name}; ValueError says what is wrong."""
    data = _json_object(text, '{"abandoned_checkout": "cart_reminder"}')
    for key, name in data.items():
        if not isinstance(name, str) or not _TEMPLATE.match(name):
            raise ValueError(
                f"'{key}': a template name is lower-case letters, digits and _, as in "
                "WhatsApp Manager."
            )
    return {str(k): str(v) for k, v in data.items()}


def media_for(tenant: Tenant, kind: str, step: object = None) -> tuple[str, ...]:
    """How a message of ``kind`` (recovery step ``step``) travels; e-mail unless the merchant
    chose otherwise. An unreadable saved value (validated when saved) falls back to e-mail."""
    saved = {item.get("name"): item.get("value") for item in tenant.settings or []}
    try:
        mapping = media_map(str(saved.get(MEDIA) or "").strip())
    except ValueError:
        mapping = {}
    return mapping.get(f"{kind}#{step}") or mapping.get(kind) or ("email",)


def whatsapp_template(tenant: Tenant, kind: str) -> str:
    """The merchant's approved template for ``kind``, or "" when there is none."""
    saved = {item.get("name"): item.get("value") for item in tenant.settings or []}
    try:
        return whatsapp_templates(str(saved.get(WHATSAPP_TEMPLATES) or "").strip()).get(kind, "")
    except ValueError:
        return ""


def _value_errors(values: dict[str, str]) -> dict[str, str]:
    """The checks a setting gets whether the store or one channel sets it."""
    found: dict[str, str] = {}
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
    try:
        _discounts(values[RECOVERY_DISCOUNTS])
    except ValueError:
        found[RECOVERY_DISCOUNTS] = (
            "Give one entry per step separated by commas: - for none, 10%/7 for 10 percent "
            "valid 7 days, 5.00/3 for a fixed amount valid 3 days."
        )
    try:
        _discount(values[WINBACK_DISCOUNT])
    except ValueError:
        found[WINBACK_DISCOUNT] = "Give e.g. 15%/14 or 10.00/14 (value/validity days), or nothing."
    window = _WINDOW.match(values[SEND_WINDOW])
    if not window or window.group(1) + window.group(2) >= window.group(3) + window.group(4):
        found[SEND_WINDOW] = "Give a start and end time like 09:00-20:00 (start before end)."
    return found


def _channels(text: str) -> dict[str, dict[str, Any]]:
    """The per-channel JSON as {slug: {setting: value}}; ValueError says what is wrong."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"This is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError('Give a JSON object by channel slug, e.g. {"uk": {"enabled": false}}.')
    for slug, own in data.items():
        unknown = sorted(set(own) - set(PER_CHANNEL))
        if BASE_CURRENCY in unknown:
            raise ValueError(
                f"Channel '{slug}': the base currency is one for the whole store, so customers' "
                "spend across channels adds up; set it above."
            )
        if unknown:
            raise ValueError(
                f"Channel '{slug}': {', '.join(unknown)} cannot be set per channel "
                f"(allowed: {', '.join(PER_CHANNEL)})."
            )
        if ENABLED in own and not isinstance(own[ENABLED], bool):
            raise ValueError(f"Channel '{slug}': enabled is true or false.")
    return data


def _channel_errors(text: str) -> str:
    try:
        channels = _channels(text)
    except ValueError as exc:
        return str(exc)
    for slug, own in channels.items():
        values = {k: str(v).strip() for k, v in own.items() if k != ENABLED}
        merged = {**as_dict(None), **values}
        for name, message in _value_errors(merged).items():
            if name in values:
                return f"Channel '{slug}', {name}: {message}"
    return ""


def _delays(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _discount(text: str) -> Discount | None:
    """``10%/7``, ``5.00/3`` or ``5`` (7 days); ``-`` or '' is no discount."""
    text = text.strip()
    if text in ("", "-"):
        return None
    found = _DISCOUNT.match(text.replace(" ", ""))
    if not found:
        raise ValueError(text)
    value, percent, days = Decimal(found.group(1)), found.group(2) == "%", int(found.group(3) or 7)
    if value <= 0 or days <= 0 or (percent and value > 100):
        raise ValueError(text)
    return Discount(percentage=percent, value=value, days=days)


def _discounts(text: str) -> tuple[Discount | None, ...]:
    return tuple(_discount(part) for part in text.split(",")) if text.strip() else ()


def _window(text: str) -> tuple[str, str]:
    start, _, end = text.partition("-")
    return start, end


def parse(items: list[dict[str, Any]] | None) -> StoreSettings:
    """Settings as plain data; call ``errors`` first (Saleor does, when a merchant saves)."""
    values = as_dict(items)
    store = StoreSettings(
        base_currency=values[BASE_CURRENCY].upper(),
        recovery_delays_hours=_delays(values[RECOVERY_DELAYS]),
        sender_address=values[SENDER],
        checkout_url_template=values[CHECKOUT_URL],
        send_window=_window(values[SEND_WINDOW]),
        recovery_discounts=_discounts(values[RECOVERY_DISCOUNTS]),
        winback_discount=_discount(values[WINBACK_DISCOUNT]),
    )
    channels: dict[str, ChannelSettings] = {}
    for slug, own in _channels(values[CHANNELS]).items():
        text = {k: str(v).strip() for k, v in own.items()}
        channel = replace(store.for_channel(None), enabled=own.get(ENABLED, True))
        if RECOVERY_DELAYS in text:
            channel = replace(channel, recovery_delays_hours=_delays(text[RECOVERY_DELAYS]))
        if SENDER in text:
            channel = replace(channel, sender_address=text[SENDER])
        if CHECKOUT_URL in text:
            channel = replace(channel, checkout_url_template=text[CHECKOUT_URL])
        if SEND_WINDOW in text:
            channel = replace(channel, send_window=_window(text[SEND_WINDOW]))
        if RECOVERY_DISCOUNTS in text:
            channel = replace(channel, recovery_discounts=_discounts(text[RECOVERY_DISCOUNTS]))
        if WINBACK_DISCOUNT in text:
            channel = replace(channel, winback_discount=_discount(text[WINBACK_DISCOUNT]))
        channels[slug] = channel
    return replace(store, channels=channels)


class InvalidSettings(ValueError):
    """Settings a merchant must correct; ``problems`` maps each setting to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def for_tenant(tenant: Tenant) -> StoreSettings:
    """The store's settings; its base currency is the tenant's, fixed when it was created."""
    return replace(parse(tenant.settings or None), base_currency=tenant.base_currency)


def current_items(tenant: Tenant) -> dict[str, str]:
    """Every setting with its value (defaults filled in), as a form shows them."""
    values = as_dict(tenant.settings or None)
    values[BASE_CURRENCY] = tenant.base_currency
    return values


def save(tenant: Tenant, values: dict[str, Any]) -> StoreSettings:
    """Replace the settings given (others keep their value); refused as a whole when one is
    wrong. The base currency cannot change: every stored base amount depends on it."""
    unknown = sorted(set(values) - {item["name"] for item in DEFAULT_CONFIGURATION})
    if unknown:
        raise InvalidSettings({name: "There is no such setting." for name in unknown})
    if BASE_CURRENCY in values and str(values[BASE_CURRENCY]).upper() != tenant.base_currency:
        raise InvalidSettings(
            {BASE_CURRENCY: f"The base currency is fixed at {tenant.base_currency} for this store."}
        )
    merged = {
        **current_items(tenant),
        **{k: "" if v is None else str(v) for k, v in values.items()},
    }
    items = [{"name": name, "value": value} for name, value in merged.items()]
    problems = errors(items)
    if problems:
        raise InvalidSettings(problems)
    tenant.settings = items
    tenant.save(update_fields=["settings", "updated_at"])
    return for_tenant(tenant)


def chosen(tenant: Tenant, channel: str, name: str) -> str:
    """What the merchant chose for ``name`` on this channel (the channel's own value, else the
    store's), or '' when they never saved one: callers then fall back to the ``CRM_`` default."""
    saved = {item.get("name"): item.get("value") for item in tenant.settings or []}
    try:
        own = _channels(str(saved.get(CHANNELS) or "")).get(channel, {}) if channel else {}
    except ValueError:  # validated when saved; an old copy must not stop the messages
        own = {}
    return str(own.get(name, saved.get(name)) or "").strip()

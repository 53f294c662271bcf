"""CLDR formatting through Babel, in the message's locale and the customer's time zone."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal, format_percent

from ..money.currencies import from_minor
from .locales import babel_locale


def money(amount_minor: int, currency: str, locale: str) -> str:
    """``1234`` EUR in ``de`` is ``12,34 €``; ``1234`` JPY in ``ja`` is ``￥1,234``; KWD keeps
    its three digits. The amount is exact (minor units), so no rounding happens here."""
    return format_currency(
        from_minor(amount_minor, currency), currency, locale=babel_locale(locale)
    )


def number(value: int, locale: str) -> str:
    """A count as the locale groups digits (``1.250`` in German, ``1,250`` in English)."""
    return format_decimal(value, locale=babel_locale(locale))


def percent(value: Decimal, locale: str) -> str:
    """``15`` percent as the locale writes it (``15 %`` in German and French, ``15%``)."""
    return format_percent(value / 100, locale=babel_locale(locale))


def day(value: date, locale: str) -> str:
    """A date as people of the locale write it in prose (``31. Dezember 2026``)."""
    return format_date(value, format="long", locale=babel_locale(locale))


def moment(value: datetime, time_zone: str, locale: str) -> str:
    """An instant on the customer's clock, to the minute, as the locale writes it
    (``31. Dez. 2026, 23:59``; ``Dec 31, 2026, 11:59 PM``; ``2026年12月31日 23:59``)."""
    zone = ZoneInfo(time_zone)
    name = babel_locale(locale)
    day_part = format_skeleton("yMMMd", value, tzinfo=zone, locale=name)
    time_part = format_time(value, format="short", tzinfo=zone, locale=name)
    pattern = str(Locale.parse(name).datetime_formats["medium"])
    return pattern.replace("{1}", day_part).replace("{0}", time_part)

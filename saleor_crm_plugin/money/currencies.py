"""ISO 4217 currencies and their minor units, from CLDR through Babel (the version Saleor pins)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from .errors import InvalidAmount, UnknownCurrency

_CODE = re.compile(r"^[A-Z]{3}$")

# Test and precious-metal codes are not money a store is paid in.
_NOT_MONEY = frozenset(
    {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}
)


@cache
def _known() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if code not in _NOT_MONEY)


def is_known_currency(code: object) -> bool:
    return isinstance(code, str) and bool(_CODE.match(code)) and code in _known()


def validate_currency(code: object) -> str:
    """Return the code if it is an ISO 4217 currency, else raise ``UnknownCurrency``."""
    if not is_known_currency(code):
        raise UnknownCurrency(f"unknown currency {code!r}: expected an ISO 4217 code")
    return str(code)


@cache
def minor_units(code: str) -> int:
    """Digits after the decimal point: JPY 0, EUR 2, KWD 3.

    Cached: the applier converts every amount of every delivery (about six per order), and
    Babel's lookup was a fifth of parsing a batch. An unknown code raises and is not cached,
    so the cache holds at most the ISO list."""
    return int(get_currency_precision(validate_currency(code)))


_BEYOND = Decimal(10) ** 15


def to_minor(amount: Decimal | int | float | str, currency: str) -> int:
    """Convert an exact amount to integer minor units.

    Refuses amounts finer than the currency allows (``1.234 EUR``) instead of rounding them:
    Saleor already quantizes prices, so extra digits mean the payload is not what we think.

    A ``float`` is read as its shortest decimal text (``repr``), the digits it was written
    with: any amount that can pass the checks below has at most 15 significant digits
    (under 10**15 minor units), and every such decimal survives the trip through a double.
    ``0.1 + 0.2`` is not such an amount (``0.30000000000000004``) and is refused.
    """
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation as exc:
        raise InvalidAmount(f"amount {amount!r} is not a number") from exc
    if not value.is_finite():
        raise InvalidAmount(f"amount {amount!r} is not a finite number")
    scaled = value.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"amount {amount} has more decimals than {currency} allows")
    if abs(scaled) >= _BEYOND:
        raise InvalidAmount(f"amount {amount} {currency} is beyond any real order")
    return int(scaled)


def from_minor(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_units(currency))


def convert_minor(amount_minor: int, currency: str, rate: Decimal, base_currency: str) -> int:
    """Convert minor units of ``currency`` to minor units of ``base_currency``.

    ``rate`` is base units per one unit of ``currency``. Rounds half to even once, at the end.
    """
    value = from_minor(amount_minor, currency) * rate
    exponent = Decimal(1).scaleb(-minor_units(base_currency))
    return int(
        value.quantize(exponent, rounding=ROUND_HALF_EVEN).scaleb(minor_units(base_currency))
    )

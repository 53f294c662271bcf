"""Stripe's integer amounts, converted to our minor units (ISO 4217 through Babel).

Stripe uses its own exponents: zero-decimal currencies (JPY, KRW ...) count whole units,
three-decimal ones (KWD, BHD ...) thousandths, and ISK keeps two decimals for backwards
compatibility although ISO gives it none. Everything else is in hundredths.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from ..money.currencies import minor_units, validate_currency

ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def stripe_exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


# Stripe's own ceiling is eight digits; anything past twelve is not money but an attack, and
# would overflow the bigint columns it is stored in.
MAX_STRIPE_AMOUNT = 10**12


def stripe_amount(value: object) -> int:
    """A Stripe amount as sent: a non-negative whole number. ValueError names what is wrong,
    so a float, a string, infinity or a number past any real charge is refused, not truncated."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"amount must be a whole number of minor units, not {value!r:.40}")
    if not 0 <= value <= MAX_STRIPE_AMOUNT:
        raise ValueError(f"amount {value:.40} is outside 0..{MAX_STRIPE_AMOUNT}")
    return value


def from_stripe(amount: object, currency: str) -> tuple[int, str]:
    """(minor units in ISO terms, upper-case code) of a Stripe amount; rounds down when ISO
    has fewer digits (ISK), so a refund never counts for more than it was."""
    if not isinstance(currency, str):
        raise ValueError(f"currency must be a string, not {type(currency).__name__}")
    code = validate_currency(currency.upper())
    value = Decimal(stripe_amount(amount)).scaleb(-stripe_exponent(code)).scaleb(minor_units(code))
    return int(value.to_integral_value(rounding=ROUND_FLOOR)), code

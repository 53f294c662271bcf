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


def from_stripe(amount: int, currency: str) -> tuple[int, str]:
    """(minor units in ISO terms, upper-case code) of a Stripe amount; rounds down when ISO
    has fewer digits (ISK), so a refund never counts for more than it was."""
    code = validate_currency(currency.upper())
    value = Decimal(int(amount)).scaleb(-stripe_exponent(code)).scaleb(minor_units(code))
    return int(value.to_integral_value(rounding=ROUND_FLOOR)), code

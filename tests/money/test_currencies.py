from decimal import Decimal

import pytest

from saleor_crm_plugin.money.currencies import convert_minor, from_minor, to_minor
from saleor_crm_plugin.money.errors import InvalidAmount, UnknownCurrency


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("15598.0", "JPY", 15598),
        ("6.205", "KWD", 6205),
        ("103.81", "EUR", 10381),
        ("0.0", "USD", 0),
    ],
)
def test_amounts_become_exact_minor_units(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


@pytest.mark.parametrize("amount", ["1.234", "0.5"])
def test_amounts_finer_than_the_currency_are_refused_not_rounded(amount):
    currency = "EUR" if amount == "1.234" else "JPY"
    with pytest.raises(InvalidAmount, match="decimals"):
        to_minor(Decimal(amount), currency)


@pytest.mark.parametrize("code", ["XYZ", "eur", "EURO", "", None, "XAU"])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(UnknownCurrency):
        to_minor(Decimal(1), code)


def test_enormous_and_non_finite_amounts_are_refused():
    with pytest.raises(InvalidAmount):
        to_minor(Decimal("1e20"), "USD")
    with pytest.raises(InvalidAmount):
        to_minor(Decimal("NaN"), "USD")


def test_conversion_rounds_once_into_the_base_currency():
    # 15598 JPY at 1/160 EUR per JPY = 97.4875 EUR -> 97.49 EUR (half to even at the cent)
    assert convert_minor(15598, "JPY", Decimal(1) / Decimal(160), "EUR") == 9749
    # 6.205 KWD at 3.125 EUR per KWD = 19.390625 EUR -> 19.39 EUR
    assert convert_minor(6205, "KWD", Decimal("3.125"), "EUR") == 1939
    # 19.39 EUR into JPY at 160: 3102.4 -> 3102 JPY (no minor units)
    assert convert_minor(1939, "EUR", Decimal(160), "JPY") == 3102

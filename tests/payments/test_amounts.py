"""Stripe's integer amounts read with Stripe's exponents, into ISO minor units."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.money.errors import UnknownCurrency
from saleor_crm_plugin.payments.amounts import from_stripe


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (1234, "eur", (1234, "EUR")),  # 12.34 EUR
        (5000, "jpy", (5000, "JPY")),  # zero-decimal: 5000 yen
        (5000, "krw", (5000, "KRW")),
        (42690, "kwd", (42690, "KWD")),  # three decimals: 42.690 KWD
        (1230, "bhd", (1230, "BHD")),
        (150000, "isk", (1500, "ISK")),  # Stripe keeps two decimals for ISK, ISO has none
        (150099, "isk", (1500, "ISK")),  # never counts for more than it was
    ],
)
def test_stripe_amounts_become_iso_minor_units(amount, currency, expected):
    assert from_stripe(amount, currency) == expected


def test_an_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrency):
        from_stripe(100, "zzz")

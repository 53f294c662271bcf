"""Amounts read from a delivery are exact minor units, whichever JSON parser read the body.

Bodies are parsed with orjson, which reads Saleor's float amounts as doubles; these tests pin
that every amount comes out as the digits Saleor wrote, in 0-, 2- and 3-decimal currencies and
up to the largest amount accepted, and that everything refused before is still refused.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from saleor_crm_plugin.inbox import saleor_payloads
from saleor_crm_plugin.inbox.errors import PayloadError
from saleor_crm_plugin.inbox.saleor_payloads import parse_delivery
from tests import recordings

EXPONENTS = {"JPY": 0, "EUR": 2, "KWD": 3}


def _priced(node: Any, amount: object, currency: str) -> Any:
    """``node`` with every money amount set to ``amount`` in ``currency``."""
    if isinstance(node, dict):
        if "amount" in node and "currency" in node:
            return {**node, "amount": amount, "currency": currency}
        return {k: _priced(v, amount, currency) for k, v in node.items()}
    if isinstance(node, list):
        return [_priced(v, amount, currency) for v in node]
    return node


def order_body(amount: object, currency: str, literal: str | None = None) -> bytes:
    """The recorded order #21 in ``currency``, every amount ``amount`` as ``json`` writes it
    (Saleor writes floats), or as the exact text ``literal``."""
    payload = json.loads(recordings.delivery(10).body)
    order = _priced(payload["order"], amount if literal is None else 0.0, currency)
    order["channel"]["currencyCode"] = currency
    payload["order"] = order
    body = json.dumps(payload)
    if literal is not None:
        body = body.replace('"amount": 0.0', f'"amount": {literal}')
    return body.encode()


def outcome(body: bytes) -> tuple[int, ...] | str:
    """The order's minor units (total, net, charged, refunded, each line), or the error code."""
    try:
        (event,) = parse_delivery("order_created", body)
    except PayloadError as exc:
        return exc.code
    order = event.order
    assert order is not None
    return (
        order.total_gross_minor,
        order.total_net_minor,
        order.charged_minor,
        order.refunded_minor,
        *(line.total_gross_minor for line in order.lines),
    )


def decimal_outcome(body: bytes) -> tuple[int, ...] | str:
    """``outcome`` with every body read as before: ``json`` with each fraction a ``Decimal``."""
    with mock.patch.object(
        saleor_payloads, "_loads", lambda body: json.loads(body, parse_float=Decimal)
    ):
        return outcome(body)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (6.205, "KWD", 6205),
        (0.001, "KWD", 1),
        (999999999999.999, "KWD", 999999999999999),  # the largest KWD amount accepted
        (15598.0, "JPY", 15598),
        (999999999999999.0, "JPY", 999999999999999),
        (0.3, "EUR", 30),  # not 0.1 + 0.2 (0.30000000000000004)
        (1.15, "EUR", 115),  # 1.15 * 100 is 114.99999999999999 in binary
        (4.35, "EUR", 435),
        (9999999999999.99, "EUR", 999999999999999),
        (0.0, "EUR", 0),
    ],
)
def test_float_amounts_are_the_minor_units_written(amount, currency, minor):
    got = outcome(order_body(amount, currency))
    assert isinstance(got, tuple)
    assert set(got) == {minor}


@pytest.mark.parametrize(
    ("literal", "currency", "code"),
    [
        ("0.30000000000000004", "EUR", "invalid_amount"),  # 0.1 + 0.2 as Python writes it
        ("1.0000000000000001", "EUR", "invalid_amount"),  # a double would read 1.0
        ("1.0001", "KWD", "invalid_amount"),
        ("0.5", "JPY", "invalid_amount"),
        ("1.234", "EUR", "invalid_amount"),
        ("1000000000000000", "JPY", "invalid_amount"),  # beyond any real order
        ("1e300", "EUR", "invalid_amount"),
        ("-5.0", "EUR", "invalid_amount"),
        ("NaN", "EUR", "invalid_amount"),
        ('"12.50"', "EUR", "invalid_amount"),
        ("true", "EUR", "invalid_amount"),
        ("123456789012345678901234", "JPY", "invalid_amount"),  # beyond 64 bits
    ],
)
def test_amounts_refused_before_are_still_refused(literal, currency, code):
    body = order_body(None, currency, literal=literal)
    assert outcome(body) == code
    assert decimal_outcome(body) == code


@pytest.mark.parametrize(
    ("literal", "currency", "minor"),
    [
        ("6.2050", "KWD", 6205),  # trailing zeros: the same amount
        ("1.50000000000000000000", "EUR", 150),  # 16+ digits: read with Decimal, still exact
        ("15598", "JPY", 15598),
        ("1E+2", "EUR", 10000),
    ],
)
def test_exact_literals_keep_their_value(literal, currency, minor):
    got = outcome(order_body(None, currency, literal=literal))
    assert isinstance(got, tuple)
    assert set(got) == {minor}


@settings(max_examples=300, deadline=None)
@given(minor=st.integers(0, 10**15 - 1), currency=st.sampled_from(sorted(EXPONENTS)))
@example(minor=10**15 - 1, currency="KWD")
@example(minor=30, currency="EUR")
def test_every_acceptable_amount_written_as_a_float_is_exact(minor, currency):
    amount = float(Decimal(minor).scaleb(-EXPONENTS[currency]))
    got = outcome(order_body(amount, currency))
    assert isinstance(got, tuple)
    assert set(got) == {minor}


@settings(max_examples=300, deadline=None)
@given(
    amount=st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4).map(float),
    currency=st.sampled_from(sorted(EXPONENTS)),
)
@example(amount=0.1 + 0.2, currency="EUR")
@example(amount=1e-7, currency="KWD")
def test_any_float_gives_what_decimal_parsing_gave(amount, currency):
    body = order_body(amount, currency)
    assert outcome(body) == decimal_outcome(body)


def test_a_long_run_of_digits_in_a_string_parses_the_same():
    payload = json.loads(order_body(6.205, "KWD"))
    payload["order"]["payments"] = [{"gateway": "x", "pspReference": "pi_12345678901234567890"}]
    body = json.dumps(payload).encode()
    (event,) = parse_delivery("order_created", body)
    assert event.order is not None
    assert "pi_12345678901234567890" in event.order.psp_references
    assert outcome(body) == decimal_outcome(body)

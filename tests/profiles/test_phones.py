"""Phone numbers become E.164, from Saleor's addresses and from WhatsApp's wa_id."""

from __future__ import annotations

import json

import pytest

from saleor_crm_plugin.inbox.saleor_payloads import parse_customer
from saleor_crm_plugin.profiles.phones import e164
from tests import recordings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+493012345678", "+493012345678"),  # as Saleor stores it
        ("+49 (30) 1234-5678", "+493012345678"),
        ("0049 30 12345678", "+493012345678"),
        ("4915112345678", "+4915112345678"),  # WhatsApp's wa_id
        ("030 12345678", ""),  # national: which country? we do not guess
        ("+49", ""),
        ("call me", ""),
        (None, ""),
    ],
)
def test_numbers_are_e164_or_nothing(raw, expected):
    assert e164(raw) == expected


def test_the_customers_phone_comes_from_their_default_billing_address():
    recorded = recordings.delivery(2)  # anna adds a German address with a phone number

    customer = parse_customer(json.loads(recorded.body)["user"])

    assert customer.phone == "+493012345678"

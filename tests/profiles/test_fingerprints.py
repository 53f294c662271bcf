"""Keyed hashes of shipping addresses and cards: equal for the same address or card however it
is typed, different across CRM secrets, and never the clear data."""

from __future__ import annotations

from saleor_crm_plugin.profiles.fingerprints import address_key, payment_keys

HOME = {"streetAddress1": "Hauptstraße 5", "postalCode": "10115", "country": {"code": "DE"}}
VISA = {"brand": "Visa", "firstDigits": "4242", "lastDigits": "4242", "expMonth": 3,
        "expYear": 2030}  # fmt: skip


def test_the_same_address_typed_differently_has_the_same_key():
    typed = {"streetAddress1": " HAUPTSTRASSE  5", "postalCode": "101 15",
             "country": {"code": "de"}, "city": "Berlin"}  # fmt: skip
    assert address_key(typed) == address_key(HOME)
    assert address_key({**HOME, "postalCode": "10117"}) != address_key(HOME)
    assert address_key({**HOME, "streetAddress1": "Hauptstraße 7"}) != address_key(HOME)


def test_an_incomplete_address_has_no_key():
    assert address_key({**HOME, "streetAddress1": ""}) == ""
    assert address_key({"city": "Berlin", "country": {"code": "DE"}}) == ""  # recorded shape
    assert address_key(None) == ""


def test_keys_are_keyed_hashes_not_the_data(settings):
    key = address_key(HOME)
    assert len(key) == 64 and "10115" not in key
    settings.CRM_LOYALTY_FINGERPRINT_KEY = "another-crm-secret"
    assert address_key(HOME) != key


def test_a_card_is_the_same_from_a_transaction_and_from_a_legacy_payment():
    from_transaction = payment_keys(
        [{"paymentMethodDetails": {"__typename": "CardPaymentMethodDetails", **VISA}}], []
    )
    from_payment = payment_keys([], [{"creditCard": {**VISA, "brand": "visa", "expMonth": 3}}])
    assert from_transaction == from_payment and len(from_transaction) == 1
    other_expiry = payment_keys([], [{"creditCard": {**VISA, "expYear": 2031}}])
    assert other_expiry != from_payment


def test_only_cards_with_last_digits_and_expiry_count():
    assert (
        payment_keys(
            [
                {
                    "paymentMethodDetails": {
                        "__typename": "OtherPaymentMethodDetails",
                        "name": "PayPal",
                    }
                },
                {"paymentMethodDetails": None},
                {"name": "recorded shape, no details"},
            ],
            [{"creditCard": {**VISA, "lastDigits": None}}, {"creditCard": None}],
        )
        == ()
    )

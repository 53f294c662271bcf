"""Keyed hashes of an order's shipping address and payment cards, for referral abuse checks.

Whether a referred friend ships to the advocate's address or pays with the advocate's card is a
comparison, not something the CRM needs to read back: so only an HMAC of each (keyed with
``CRM_LOYALTY_FINGERPRINT_KEY``) is kept on the order record, and the address or card details
themselves never are. Without the key the hashes cannot be matched against a guessed address.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ..conf import crm_settings


def _key(kind: str, parts: list[str]) -> str:
    message = "|".join([kind, *parts]).encode()
    secret = crm_settings.LOYALTY_FINGERPRINT_KEY.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _plain(value: Any) -> str:
    """Case- and space-insensitive: "Hauptstr. 5 " and "hauptstr.5" are the same line."""
    return "".join(str(value or "").split()).casefold()


def address_key(address: Any) -> str:
    """The shipping address as street line 1, postal code and country; '' when incomplete."""
    if not isinstance(address, dict):
        return ""
    country = address.get("country")
    code = country.get("code") if isinstance(country, dict) else country
    parts = [_plain(address.get("streetAddress1")), _plain(address.get("postalCode")), _plain(code)]
    return _key("address", parts) if parts[0] and parts[2] else ""


def _card(details: Any) -> str:
    """Brand, first and last digits and expiry; '' unless the last digits and expiry are known
    (the first digits alone are the issuer's, shared by many customers)."""
    if not isinstance(details, dict):
        return ""
    parts = [
        _plain(details.get(name))
        for name in ("brand", "firstDigits", "lastDigits", "expMonth", "expYear")
    ]
    if parts[3]:
        parts[3] = parts[3].lstrip("0")
    return _key("card", parts) if parts[2] and parts[3] and parts[4] else ""


def payment_keys(transactions: Any, payments: Any) -> tuple[str, ...]:
    """One key per card an order was paid with: from Saleor's transactions
    (``paymentMethodDetails``, card details since Saleor 3.23) and legacy payments
    (``creditCard``), sorted and without repeats."""
    cards = [
        t.get("paymentMethodDetails")
        for t in transactions or []
        if isinstance(t, dict)
        and (t.get("paymentMethodDetails") or {}).get("__typename", "CardPaymentMethodDetails")
        == "CardPaymentMethodDetails"
    ]
    cards += [p.get("creditCard") for p in payments or [] if isinstance(p, dict)]
    return tuple(sorted({key for key in map(_card, cards) if key}))

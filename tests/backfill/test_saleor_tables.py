"""The table backfill's payment card fields, run against stand-in Saleor payment tables.

The whole order statement needs Saleor's tables (tests/in_saleor); the card parts are run here
on temporary tables shaped like Saleor's, before (3.21) and after (3.22+) transaction items got
their card columns.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from saleor_crm_plugin.backfill.saleor_tables import ORDER_BODY
from saleor_crm_plugin.profiles.fingerprints import payment_keys

pytestmark = pytest.mark.django_db

CARD = "cc_brand text, cc_first_digits text, cc_last_digits text, cc_exp_month int, cc_exp_year int"


def payments_of_order() -> dict:
    start = ORDER_BODY.index("'transactions', coalesce((")
    end = ORDER_BODY.index("'checkoutId'")
    fields = ORDER_BODY[start:end].rstrip().rstrip(",")
    with connection.cursor() as cur:
        cur.execute(f"SELECT json_build_object({fields})::text FROM (SELECT 1 AS id) o")
        return json.loads(cur.fetchone()[0])


def saleor_tables(transaction_cards: bool) -> None:
    with connection.cursor() as cur:
        item_cards = f", {CARD}" if transaction_cards else ""
        cur.execute(
            "CREATE TEMP TABLE payment_transactionitem (id int, order_id int, name text, "
            f"psp_reference text, created_at timestamptz{item_cards})"
        )
        cur.execute(
            "CREATE TEMP TABLE payment_payment (id int, order_id int, gateway text, "
            f"psp_reference text, created_at timestamptz, {CARD})"
        )
        cur.execute("INSERT INTO payment_payment VALUES (1, 1, 'dummy', 'ch_1', now(), 'visa', '', "
                    "'4242', 3, 2030)")  # fmt: skip
        if transaction_cards:
            cur.execute("INSERT INTO payment_transactionitem VALUES (1, 1, 'Stripe', 'pi_1', "
                        "now(), 'mastercard', '5555', '4444', 12, 2029)")  # fmt: skip
        else:
            cur.execute(
                "INSERT INTO payment_transactionitem VALUES (1, 1, 'Stripe', 'pi_1', now())"
            )


def test_cards_of_legacy_payments_and_of_transactions_give_the_webhooks_keys():
    saleor_tables(transaction_cards=True)
    found = payments_of_order()
    webhook = payment_keys(
        [{"paymentMethodDetails": {"__typename": "CardPaymentMethodDetails", "brand": "mastercard",
          "firstDigits": "5555", "lastDigits": "4444", "expMonth": 12, "expYear": 2029}}],
        [{"creditCard": {"brand": "visa", "firstDigits": None, "lastDigits": "4242",
          "expMonth": 3, "expYear": 2030}}],
    )  # fmt: skip
    assert payment_keys(found["transactions"], found["payments"]) == webhook
    assert len(webhook) == 2


def test_a_saleor_before_transaction_cards_still_backfills():
    saleor_tables(transaction_cards=False)
    found = payments_of_order()
    assert found["transactions"] == [
        {"name": "Stripe", "pspReference": "pi_1", "paymentMethodDetails": None}
    ]
    assert len(payment_keys(found["transactions"], found["payments"])) == 1  # the legacy card

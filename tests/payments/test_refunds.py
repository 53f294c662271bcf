"""Refunds made in Stripe reverse points once, whoever (Stripe or Saleor) tells us first.

Recorded store (base EUR, 1 point per EUR): Anna's order #21 (103.81 EUR, PaymentIntent
psp-anna-1) earned 103 points; Saleor reports a 5.51 EUR refund at delivery 16, which takes
floor(103 * 5.51 / 103.81) = 5 back.
"""

from __future__ import annotations

import pytest

from saleor_crm_plugin.inbox.models import Delivery
from saleor_crm_plugin.loyalty.ledger import balance_of
from saleor_crm_plugin.models import Profile
from tests.payments.conftest import T0, earned, ledger, replay, stripe
from tests.stripe_api import charge

pytestmark = pytest.mark.django_db(transaction=True)
ANNA = "anna.mueller@example.de"


def anna_refund(refunded: int) -> dict:
    return charge("psp-anna-1", amount=10381, refunded=refunded)


def test_stripe_first_then_saleor_reverses_once(tenant, rates):
    replay(tenant, 1, 15)  # order #21 placed and paid; Saleor has not reported the refund yet
    stripe(tenant, "charge.refunded", anna_refund(551))
    assert ledger(ANNA) == [("earn", 103), ("reverse", -5)]
    replay(tenant, 16, 19)  # Saleor's order_refunded for the same 5.51 EUR
    assert ledger(ANNA) == [("earn", 103), ("reverse", -5)]


def test_saleor_first_then_stripe_moves_nothing_and_a_further_stripe_refund_counts(tenant, rates):
    replay(tenant, 1, 19)
    assert ledger(ANNA) == [("earn", 103), ("reverse", -5)]
    stripe(tenant, "charge.refunded", anna_refund(551))
    assert ledger(ANNA) == [("earn", 103), ("reverse", -5)]
    # a second refund made in Stripe's dashboard, which Saleor never hears of: 11.02 EUR in all
    stripe(tenant, "charge.refunded", anna_refund(1102))
    assert ledger(ANNA) == [
        ("earn", 103),
        ("reverse", -5),
        ("reverse", -5),
    ]  # floor(103*1102/10381)=10


def test_a_late_older_refund_event_changes_nothing(tenant, rates):
    replay(tenant, 1, 15)
    stripe(tenant, "charge.refunded", anna_refund(1102), created=T0 + 10)
    stripe(tenant, "charge.refunded", anna_refund(551), created=T0)  # arrives last
    assert ledger(ANNA) == [("earn", 103), ("reverse", -10)]


def test_a_duplicated_event_is_applied_once(tenant, rates):
    replay(tenant, 1, 15)
    assert stripe(tenant, "charge.refunded", anna_refund(551), id="evt_dup") is True
    assert stripe(tenant, "charge.refunded", anna_refund(551), id="evt_dup") is False
    assert stripe(tenant, "charge.refunded", anna_refund(551), id="evt_other") is True
    assert ledger(ANNA) == [("earn", 103), ("reverse", -5)]
    assert Delivery.objects.filter(source="stripe").count() == 2


def test_partial_refund_in_jpy_a_zero_decimal_currency(tenant, rates):
    replay(tenant, 1, 64)  # Yuki's order #24: 15598 JPY, PaymentIntent psp-yuki-1
    points = earned("yuki.tanaka@example.jp", "psp-yuki-1")
    assert points > 0
    # Stripe counts JPY in whole yen: 5000 is 5000 JPY, not 50.00
    stripe(
        tenant, "charge.refunded", charge("psp-yuki-1", amount=15598, refunded=5000, currency="jpy")
    )
    assert ledger("yuki.tanaka@example.jp") == [
        ("earn", points),
        ("reverse", -(points * 5000 // 15598)),
    ]


def test_partial_refund_in_kwd_a_three_decimal_currency(tenant, rates):
    replay(tenant, 1, 64)  # Fahad's order #25: 85.390 KWD, PaymentIntent psp-fahad-1
    points = earned("fahad@example.kw", "psp-fahad-1")
    # Stripe counts KWD in fils (thousandths), the last digit 0: 42690 is 42.690 KWD
    stripe(
        tenant,
        "charge.refunded",
        charge("psp-fahad-1", amount=85390, refunded=42690, currency="kwd"),
    )
    assert ledger("fahad@example.kw") == [("earn", points), ("reverse", -(points * 42690 // 85390))]
    # read as hundredths (426.90 KWD) it would have been more than the order: all points gone
    assert 0 < points * 42690 // 85390 < points


def test_a_refund_of_an_unknown_charge_is_kept_and_counts_when_its_order_arrives(tenant, rates):
    assert stripe(
        tenant, "charge.refunded", charge("psp-jan-1", amount=22866, refunded=2287, currency="pln")
    )
    assert Delivery.objects.get(source="stripe").state == "processed"
    assert not Profile.objects.exists()
    replay(tenant, 1, 43)  # Jan's order #22: 228.66 PLN arrives from Saleor afterwards
    points = earned("jan.kowalski@example.pl", "psp-jan-1")
    assert ledger("jan.kowalski@example.pl") == [
        ("earn", points),
        ("reverse", -(points * 2287 // 22866)),
    ]


def test_a_refund_in_another_currency_than_the_order_is_not_counted(tenant, rates):
    replay(tenant, 1, 15)
    stripe(
        tenant,
        "charge.refunded",
        charge("psp-anna-1", amount=10900, refunded=10900, currency="usd"),
    )
    assert ledger(ANNA) == [("earn", 103)]


def test_a_full_stripe_refund_takes_back_everything(tenant, rates):
    replay(tenant, 1, 15)
    stripe(tenant, "charge.refunded", anna_refund(10381))
    assert ledger(ANNA) == [("earn", 103), ("reverse", -103)]
    assert balance_of(Profile.objects.get(email=ANNA).pk).total == 0


def test_an_unusable_event_is_set_aside_with_its_reason(tenant, rates):
    replay(tenant, 1, 15)
    stripe(tenant, "charge.refunded", {**anna_refund(551), "currency": "zzz"})
    failed = Delivery.objects.get(source="stripe")
    assert (failed.state, failed.error_code) == ("failed", "stripe_amount")
    assert ledger(ANNA) == [("earn", 103)]

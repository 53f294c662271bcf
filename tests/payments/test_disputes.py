"""A disputed Stripe payment holds the points of the disputed amount; won gives them back, lost
keeps them.

Recorded store (base EUR): Anna's order #21 (103.81 EUR, psp-anna-1) earned 103 points, 5 of
them reversed by Saleor's 5.51 EUR refund; her order #23 earned 92. The refund.me customer's
order #27 (40.00 USD, psp-refund-1) earned 38 and is refunded in full at delivery 87.
"""

from __future__ import annotations

import pytest

from saleor_crm_plugin.loyalty.ledger import adjust, balance_of
from saleor_crm_plugin.models import Profile
from tests.payments.conftest import T0, ledger, replay, stripe
from tests.stripe_api import charge, dispute

pytestmark = pytest.mark.django_db(transaction=True)
ANNA = "anna.mueller@example.de"
REFUND_ME = "refund.me@example.com"


def anna_dispute(status: str) -> dict:
    return dispute("dp_anna", "psp-anna-1", status=status, amount=10381)


def total(email: str) -> int:
    return balance_of(Profile.objects.get(email=email).pk).total


def test_an_open_dispute_holds_what_the_order_still_has_and_winning_releases_it(tenant, rates):
    replay(tenant, 1, 43)
    assert total(ANNA) == 190
    stripe(tenant, "charge.dispute.created", anna_dispute("needs_response"), created=T0)
    assert ledger(ANNA)[-1] == ("hold", -98)  # 103 earned - 5 already reversed
    assert total(ANNA) == 92
    stripe(tenant, "charge.dispute.updated", anna_dispute("under_review"), created=T0 + 5)
    stripe(tenant, "charge.dispute.closed", anna_dispute("won"), created=T0 + 10)
    assert ledger(ANNA)[-2:] == [("hold", -98), ("release", 98)]
    assert total(ANNA) == 190


def test_a_partial_dispute_holds_only_the_points_of_the_disputed_amount(tenant, rates):
    replay(tenant, 1, 43)
    part = dispute("dp_part", "psp-anna-1", status="needs_response", amount=2000)  # 20.00 EUR
    stripe(tenant, "charge.dispute.created", part, created=T0)
    assert ledger(ANNA)[-1] == ("hold", -19)  # floor(103 * 2000 / 10381), as a refund would
    assert total(ANNA) == 190 - 19
    stripe(tenant, "charge.dispute.closed", {**part, "status": "won"}, created=T0 + 10)
    assert ledger(ANNA)[-2:] == [("hold", -19), ("release", 19)]
    assert total(ANNA) == 190


def test_a_lost_dispute_keeps_the_points_and_saleors_refund_later_reverses_nothing(tenant, rates):
    replay(tenant, 1, 86)  # order #27 paid, not refunded yet
    lost = dispute("dp_refund", "psp-refund-1", status="lost", amount=4000, currency="usd")
    stripe(tenant, "charge.dispute.created", {**lost, "status": "needs_response"}, created=T0)
    stripe(tenant, "charge.dispute.closed", lost, created=T0 + 10)
    assert ledger(REFUND_ME) == [("earn", 38), ("hold", -38)]
    replay(tenant, 87, 89)  # Saleor now reports the full refund of the same money
    assert ledger(REFUND_ME) == [("earn", 38), ("hold", -38)]
    assert total(REFUND_ME) == 0


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_closed_before_created_ends_as_in_order(tenant, rates, outcome):
    replay(tenant, 1, 43)
    stripe(tenant, "charge.dispute.closed", anna_dispute(outcome), created=T0 + 10)
    stripe(tenant, "charge.dispute.created", anna_dispute("needs_response"), created=T0)
    stripe(tenant, "charge.dispute.updated", anna_dispute("under_review"), created=T0 + 5)
    kinds = [k for k, _ in ledger(ANNA)]
    assert ("hold" in kinds, "release" in kinds) == (outcome == "lost", False)
    assert total(ANNA) == (190 if outcome == "won" else 92)


def test_a_hold_never_takes_the_balance_below_zero_and_records_the_shortfall(tenant, rates):
    replay(tenant, 1, 43)
    anna = Profile.objects.get(email=ANNA)
    adjust(tenant, anna.pk, -150, reason="spent elsewhere", actor="test", adjustment_id="a1")
    stripe(tenant, "charge.dispute.created", anna_dispute("needs_response"), created=T0)
    hold = anna.points.get(kind="hold")
    assert (hold.points, hold.data["due"], hold.data["shortfall"]) == (-40, 98, 58)
    assert total(ANNA) == 0
    stripe(tenant, "charge.dispute.closed", anna_dispute("won"), created=T0 + 10)
    assert anna.points.get(kind="release").points == 40  # exactly what was held
    assert total(ANNA) == 40


def test_a_refund_while_disputed_waits_and_counts_once_the_dispute_is_won(tenant, rates):
    replay(tenant, 1, 43)
    stripe(tenant, "charge.dispute.created", anna_dispute("needs_response"), created=T0)
    refund = charge("psp-anna-1", amount=10381, refunded=1102)  # 11.02 EUR refunded in Stripe
    stripe(tenant, "charge.refunded", refund, created=T0 + 5)
    assert ledger(ANNA)[-1] == ("hold", -98)  # the held points cover the refund
    stripe(tenant, "charge.dispute.closed", anna_dispute("won"), created=T0 + 10)
    # the hold is released, then the refund takes its share: floor(103 * 1102 / 10381) = 10
    assert ledger(ANNA)[-3:] == [("hold", -98), ("release", 98), ("reverse", -5)]
    assert total(ANNA) == 190 - 5


def test_replayed_dispute_events_hold_and_release_once(tenant, rates):
    replay(tenant, 1, 43)
    for _ in range(2):
        stripe(tenant, "charge.dispute.created", anna_dispute("needs_response"), created=T0)
        stripe(tenant, "charge.dispute.closed", anna_dispute("won"), created=T0 + 10)
    assert [k for k, _ in ledger(ANNA)].count("hold") == 1
    assert [k for k, _ in ledger(ANNA)].count("release") == 1

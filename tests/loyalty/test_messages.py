"""Loyalty e-mails through the outbox and a real SMTP server: a tier reached, points expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_crm_plugin.loyalty import messages
from saleor_crm_plugin.loyalty.ledger import adjust, balance_of
from saleor_crm_plugin.loyalty.tiers import TierRules, apply, save_rules
from saleor_crm_plugin.messaging import services as outbox
from saleor_crm_plugin.models import Message, PointsEntry, Profile
from tests.loyalty.test_ledger import replay

pytestmark = pytest.mark.django_db(transaction=True)

RULES = {"tiers": [{"name": "Bronze", "entry": 0}, {"name": "Gold", "entry": 15000}]}


def anna() -> Profile:
    return Profile.objects.get(email="anna.mueller@example.de")


def test_reaching_a_tier_e_mails_the_customer_once_in_her_language(tenant, rates, smtp):
    replay(tenant)
    program = save_rules(tenant, TierRules.from_data(RULES))
    moves = apply(tenant, program)
    assert {m.to_tier for m in moves} == {"Bronze", "Gold"}
    assert Message.objects.filter(kind="tier_changed").count() == len(moves)
    apply(tenant, program)  # nobody moves again: nothing more to say
    assert Message.objects.filter(kind="tier_changed").count() == len(moves)

    sent = outbox.send_due(datetime.now(UTC) + timedelta(minutes=1))
    assert sent == len(moves)  # transactional: no marketing consent needed
    [mail] = smtp.to("anna.mueller@example.de")
    text = mail.get_body(("plain",)).get_content()
    assert anna().language.lower().startswith("en")  # her own language, as Saleor told us
    assert "Your tier at Nordwind is now Gold." in text


@pytest.mark.parametrize(("setting", "expected"), [("up", 0), ("all", 1), ("none", 0)])
def test_a_drop_is_announced_only_when_the_merchant_wants(
    tenant, rates, settings, setting, expected
):
    replay(tenant)
    save_rules(tenant, TierRules.from_data(RULES))
    apply(tenant, save_rules(tenant, TierRules.from_data(RULES)))
    settings.CRM_LOYALTY_TIER_MESSAGES = setting
    harder = {
        "grace_days": 0,
        "tiers": [{"name": "Bronze", "entry": 0}, {"name": "Gold", "entry": 90000}],
    }
    before = Message.objects.filter(kind="tier_changed", profile=anna()).count()
    program = save_rules(tenant, TierRules.from_data(harder))
    apply(tenant, program)  # below Gold now: the grace period (0 days) starts
    moves = apply(tenant, program)
    assert [(m.from_tier, m.to_tier) for m in moves if m.email == anna().email] == [
        ("Gold", "Bronze")
    ]
    after = Message.objects.filter(kind="tier_changed", profile=anna()).count()
    assert after - before == expected


def test_points_about_to_expire_are_announced_once_with_amount_and_date(
    tenant, rates, settings, smtp
):
    settings.CRM_LOYALTY_EXPIRY_DAYS = 365
    settings.CRM_LOYALTY_EXPIRY_REMINDER_DAYS = 14
    replay(tenant)
    lots = PointsEntry.objects.filter(profile=anna(), kind="earn").order_by("available_at")
    first_expiry = lots[0].available_at + timedelta(days=365)

    assert messages.remind_expiring_points(tenant, first_expiry - timedelta(days=15)) == 0
    now = first_expiry - timedelta(days=10)
    # 40 points deducted first: taken from the oldest lot, so fewer are left to expire.
    adjust(tenant, anna().pk, -40, reason="correction", actor="staff", adjustment_id="a-1")
    assert messages.remind_expiring_points(tenant, now) >= 1
    assert messages.remind_expiring_points(tenant, now + timedelta(hours=5)) >= 1  # same day
    [message] = Message.objects.filter(kind="points_expiring", profile=anna())
    expiring = sum(
        lot.points
        for lot in lots
        if lot.available_at + timedelta(days=365) <= now + timedelta(days=14)
    )
    assert message.context["points"] == expiring - 5 - 40  # minus the refund and the deduction
    assert message.context["points"] <= balance_of(anna().pk, now).available

    assert outbox.send_due(now) >= 1
    [mail] = smtp.to("anna.mueller@example.de")
    text = mail.get_body(("plain",)).get_content()
    assert f"Points expiring on {message.context['expires_on'][:4]}" not in text  # a real date
    assert f": {message.context['points']}" in text

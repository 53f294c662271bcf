"""Earning rules staff save per store: versions, each order earning by the rules of its moment.

Base EUR; the settings give 1 point per EUR and a 14-day return window until a store saves its
own. Rates of the order day (tests/data/rates.csv, 2026-11-01): 1 EUR = 160 JPY = 1.05 USD.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction

from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.loyalty import earning, rewards
from saleor_crm_plugin.loyalty.ledger import (
    balance_of,
    expire_points,
    grant_birthday_bonuses,
    sync_orders,
)
from saleor_crm_plugin.loyalty.models import Birthday, EarningProgram, TierStatus
from saleor_crm_plugin.loyalty.tiers import TierRules
from saleor_crm_plugin.loyalty.tiers import save_rules as save_tiers
from saleor_crm_plugin.models import PointsEntry, Profile
from saleor_crm_plugin.profiles.services import apply_events

pytestmark = pytest.mark.django_db(transaction=True)

AT = datetime(2026, 11, 1, 12, tzinfo=UTC)
EMAIL = "kenji@example.jp"


def place(tenant, order_id: str, total: int, *, at=AT, currency="EUR", refunded=0, step=0):
    order = Order(
        order_id=order_id, number=order_id, channel=f"channel-{currency.lower()}",
        currency=currency, status="UNFULFILLED", user_id=None, email=EMAIL, language="ja",
        country="JP", created_at=at, updated_at=at + timedelta(minutes=step),
        total_gross_minor=total, total_net_minor=total, charged_minor=total,
        refunded_minor=refunded,
    )  # fmt: skip
    with transaction.atomic():
        apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, order.updated_at, order=order))])
        sync_orders(tenant, [order_id])


def earn(order_id: str) -> PointsEntry:
    return PointsEntry.objects.get(source="order", source_id=order_id, kind="earn")


def taken_back(order_id: str) -> int:
    rows = PointsEntry.objects.filter(source_id__startswith=order_id, kind="reverse")
    return -sum(rows.values_list("points", flat=True))


def test_saved_rules_change_what_the_next_order_earns_but_not_earlier_orders(tenant, rates):
    place(tenant, "o-1", 10000)  # 100.00 EUR under the settings: 100 points, 14 days pending
    saved = earning.save_rules(
        tenant,
        {"points_per_unit": "2", "return_days": 30},
        by="maria@shop.example",
        now=AT + timedelta(hours=1),
    )
    assert (saved.version, saved.created_by) == (1, "maria@shop.example")
    place(tenant, "o-2", 10000, at=AT + timedelta(hours=2))
    place(tenant, "o-late", 10000, at=AT + timedelta(minutes=30))  # placed before, told after
    place(tenant, "o-1", 10000, step=5)  # o-1 updated again after the save

    first, second, late = earn("o-1"), earn("o-2"), earn("o-late")
    assert (first.points, first.available_at, first.data["rules_version"]) == (
        100,
        AT + timedelta(days=14),
        0,
    )
    assert (second.points, second.available_at, second.data["rules_version"]) == (
        200,
        AT + timedelta(hours=2, days=30),
        1,
    )
    assert (late.points, late.data["rules_version"]) == (100, 0)
    assert PointsEntry.objects.filter(kind="earn").count() == 3


def test_a_refund_reverses_what_the_order_earned_under_rules_since_replaced(tenant, rates):
    earning.save_rules(tenant, {"points_per_currency": {"JPY": "0.03"}}, by="a", now=AT)
    place(tenant, "o-jpy", 12345, currency="JPY", at=AT + timedelta(minutes=1))
    assert earn("o-jpy").points == 370  # 12,345 JPY x 0.03
    earning.save_rules(tenant, {"points_per_currency": {"JPY": "1"}}, by="b", now=AT + timedelta(1))
    place(tenant, "o-jpy", 12345, currency="JPY", at=AT + timedelta(minutes=1), refunded=4000,
          step=1)  # fmt: skip
    assert taken_back("o-jpy") == 119  # floor(370 x 4000 / 12345), not today's rule
    place(tenant, "o-jpy", 12345, currency="JPY", at=AT + timedelta(minutes=1), refunded=12345,
          step=2)  # fmt: skip
    assert taken_back("o-jpy") == 370
    assert balance_of(Profile.objects.get(email=EMAIL).pk).total == 0


def test_the_tier_multiplier_applies_on_top_of_the_stores_rules_and_is_recorded(tenant, rates):
    place(tenant, "o-1", 10000)
    tiers = {"tiers": [{"name": "Member", "entry": 0}, {"name": "Gold", "entry": 5000,
                                                       "multiplier": "1.5"}]}  # fmt: skip
    save_tiers(tenant, TierRules.from_data(tiers))
    TierStatus.objects.create(
        tenant=tenant, profile=Profile.objects.get(email=EMAIL), tier="Gold", since=AT,
        program_version=1,
    )  # fmt: skip
    earning.save_rules(tenant, {"points_per_unit": "2"}, by="a", now=AT + timedelta(hours=1))
    place(tenant, "o-2", 3333, at=AT + timedelta(hours=2))  # 33.33 EUR x 2 x 1.5 = 99.99
    entry = earn("o-2")
    assert entry.points == 99
    assert (entry.data["tier"], entry.data["multiplier"], entry.data["per_unit"]) == (
        "Gold",
        "1.5",
        "2",
    )
    assert earn("o-1").points == 100  # earned before: no multiplier, old rules


def test_bonuses_expiry_and_rewards_follow_the_stores_rules(tenant, rates, settings):
    settings.CRM_LOYALTY_BIRTHDAY_BONUS = 0
    place(tenant, "o-1", 10000)
    kenji = Profile.objects.get(email=EMAIL)
    Birthday.objects.create(tenant=tenant, profile=kenji, month=5, day=17, set_at=AT)
    assert grant_birthday_bonuses(tenant, date(2027, 5, 17)) == 0  # the settings: off
    earning.save_rules(
        tenant,
        {
            "birthday_bonus": 25,
            "expiry_days": 30,
            "point_value": "0.05",
            "rewards": [100, {"points": 300, "kind": "gift_card"}],
        },
        by="a",
    )
    assert grant_birthday_bonuses(tenant, date(2027, 5, 17)) == 1
    assert balance_of(kenji.pk).available == 100 + 25  # the order (past its window) and bonus
    offered = rewards.catalogue(tenant, 125, "EUR")
    assert [(o.points, o.amount_minor, o.kind, o.missing_points) for o in offered] == [
        (100, 500, "voucher", 0),
        (300, 1500, "gift_card", 175),
    ]
    # the order's 100 points became available 14 days after it; 30 days later they expire
    assert expire_points(tenant, AT + timedelta(days=14 + 30, hours=1)) == 100


@pytest.mark.parametrize(
    ("change", "rule", "words"),
    [
        ({"points_per_unit": "-1"}, "points_per_unit", "cannot be negative"),
        ({"signup_bonus": -50}, "signup_bonus", "cannot be negative"),
        ({"first_order_bonus": "2.5"}, "first_order_bonus", "whole number"),
        ({"points_per_currency": {"JPX": "1"}}, "points_per_currency", "'JPX' is not a currency"),
        ({"points_per_currency": {"USD": "0"}}, "points_per_currency", "above 0"),
        ({"return_days": 400}, "return_days", "At most 365 days"),
        ({"point_value": "0"}, "point_value", "more than 0"),
        ({"rewards": [{"points": 500, "kind": "coupon"}]}, "rewards", "voucher or a gift_card"),
        ({"rewards": [500, 500]}, "rewards", "two rewards of 500"),
        ({"retrun_days": 30}, "retrun_days", "no such earning rule"),
        ({"birthday_bonus": True}, "birthday_bonus", "whole number"),
    ],
)
def test_wrong_rules_are_refused_whole_with_what_to_fix(tenant, change, rule, words):
    earning.save_rules(tenant, {"return_days": 21}, by="a")
    with pytest.raises(earning.InvalidEarningRules) as caught:
        earning.save_rules(tenant, {"signup_bonus": 10, **change}, by="b")
    assert list(caught.value.problems) == [rule]
    assert words in caught.value.problems[rule]
    assert EarningProgram.objects.count() == 1
    assert earning.rules_for(tenant).signup_bonus == 0  # nothing of the refused save applied
    assert earning.rules_for(tenant).return_days == 21


def test_a_store_without_saved_rules_follows_the_settings(tenant, settings):
    settings.CRM_LOYALTY_RETURN_DAYS = 7
    settings.CRM_LOYALTY_REWARDS = "200,900:gift_card"
    found = earning.rules_for(tenant)
    assert (found.return_days, found.rewards) == (7, ((200, "voucher"), (900, "gift_card")))
    earning.save_rules(tenant, {"signup_bonus": 5}, by="a")
    settings.CRM_LOYALTY_RETURN_DAYS = 3  # saved rules no longer follow the settings
    assert earning.rules_for(tenant).return_days == 7

"""Tier thresholds per channel currency (``by_currency``), base EUR.

Rates (tests/data/rates.csv): from 2026-11-01 1 EUR = 160 JPY = 1.05 USD; from 2026-11-24
1 EUR = 200 JPY = 1.20 USD.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.loyalty.models import TierStatus
from saleor_crm_plugin.loyalty.tiers import (
    InvalidTierRules,
    TierRules,
    apply,
    dry_run,
    qualifying_amount,
    save_rules,
)
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.profiles.services import apply_events

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 11, 28, tzinfo=UTC)
NOV_1, NOV_24 = datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 11, 24, 12, tzinfo=UTC)
RULES = {
    "basis": "spend",
    "window": "lifetime",
    "grace_days": 30,
    "tiers": [
        {"name": "Bronze", "entry": 0, "by_currency": {"JPY": {"entry": 0}, "USD": {"entry": 0}}},
        {
            "name": "Silver",
            "entry": 10000,  # 100.00 EUR
            "retain": 8000,
            "by_currency": {
                "JPY": {"entry": 20000, "retain": 16000},  # 20,000 JPY
                "USD": {"entry": 13000, "retain": 10000},  # 130.00 USD
            },
        },
    ],
}


def place(
    tenant,
    order_id: str,
    email: str,
    currency: str,
    total: int,
    at: datetime,
    user_id: str | None = None,
) -> None:
    order = Order(
        order_id=order_id, number=order_id, channel=f"channel-{currency.lower()}",
        currency=currency, status="UNFULFILLED", user_id=user_id, email=email, language="en",
        country="JP", created_at=at, updated_at=at, total_gross_minor=total,
        total_net_minor=total, charged_minor=total, refunded_minor=0,
    )  # fmt: skip
    with transaction.atomic():
        apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, at, order=order))])


def moves(found) -> dict[str, tuple]:
    return {m.email: (m.to_tier, m.amount, m.currency) for m in found}


def test_a_customer_in_a_currency_with_thresholds_is_measured_in_it(tenant, rates):
    place(tenant, "o-1", "kenji@example.jp", "JPY", 18000, NOV_1)  # 112.50 EUR
    place(tenant, "o-2", "emma@example.de", "EUR", 11250, NOV_1)
    found = moves(dry_run(tenant, TierRules.from_data(RULES), NOW))
    assert found == {
        "kenji@example.jp": ("Bronze", 18000, "JPY"),  # below 20,000 JPY
        "emma@example.de": ("Silver", 11250, "EUR"),  # above 100.00 EUR
    }


def test_orders_in_other_currencies_count_at_their_own_days_rate_not_todays(tenant, rates):
    place(tenant, "o-1", "kenji@example.jp", "JPY", 18000, NOV_1)  # 11250 EUR cents
    place(tenant, "o-2", "kenji@example.jp", "USD", 1200, NOV_24)  # now shopping in USD
    rules = TierRules.from_data(RULES)
    kenji = Profile.objects.get(email="kenji@example.jp")
    # 11250 x 1.05 (1 November) + 1200 = 13012.5 USD cents, rounded down once; at today's
    # 1.20 the JPY order would count 13500 and make him Silver.
    assert qualifying_amount(kenji, rules, NOW) == (13012, "USD")
    assert moves(dry_run(tenant, rules, NOW)) == {"kenji@example.jp": ("Silver", 13012, "USD")}


def test_without_a_rate_for_an_order_day_the_customer_is_measured_in_the_base(tenant, rates):
    place(tenant, "o-1", "kenji@example.jp", "EUR", 9000, datetime(2026, 10, 15, tzinfo=UTC))
    place(tenant, "o-2", "kenji@example.jp", "USD", 1200, NOV_24)  # 10.00 EUR
    assert moves(dry_run(tenant, TierRules.from_data(RULES), NOW)) == {
        "kenji@example.jp": ("Silver", 10000, "EUR")
    }


def test_apply_moves_exactly_whom_the_dry_run_listed(tenant, rates):
    place(tenant, "o-1", "kenji@example.jp", "JPY", 25000, NOV_1)
    place(tenant, "o-2", "yuki@example.jp", "JPY", 15000, NOV_1)
    place(tenant, "o-3", "emma@example.de", "EUR", 11250, NOV_24)
    program = save_rules(tenant, TierRules.from_data(RULES))
    planned = dry_run(tenant, TierRules.from_data(program.rules), NOW)
    assert apply(tenant, program, NOW) == planned
    assert dict(TierStatus.objects.values_list("profile__email", "tier")) == {
        "kenji@example.jp": "Silver",
        "yuki@example.jp": "Bronze",
        "emma@example.de": "Silver",
    }
    # Kenji's 25,000 JPY keep Silver while 16,000 JPY retain it; a grace period needs less
    assert dry_run(tenant, TierRules.from_data(program.rules), NOW + timedelta(days=1)) == []


def test_rules_without_currency_thresholds_read_and_save_as_before(tenant):
    old = {"basis": "spend", "window": "lifetime", "grace_days": 30,
           "tiers": [{"name": "Bronze", "entry": 0, "retain": 0, "multiplier": "1"}]}  # fmt: skip
    assert TierRules.from_data(old).as_data() == old
    saved = save_rules(tenant, TierRules.from_data(RULES))
    again = TierRules.from_data(saved.rules)
    assert again.thresholds("JPY") == [(0, 0), (20000, 16000)]
    assert again.thresholds("") == [(0, 0), (10000, 8000)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["tiers"][0].pop("by_currency"),
            "JPY thresholds are missing on Bronze: give them on every tier, or on none.",
        ),
        (
            lambda r: r["tiers"][1]["by_currency"]["JPY"].update(entry=0),
            "JPY: tiers go from the lowest entry up, each higher.",
        ),
        (
            lambda r: r["tiers"][1]["by_currency"]["USD"].update(retain=14000),
            "Silver in USD: retain must be between 0 and its entry.",
        ),
        (
            lambda r: r["tiers"][1]["by_currency"].update(JPX={"entry": 1}),
            "by_currency: JPX is not an ISO 4217 currency code.",
        ),
        (
            lambda r: r.update(basis="points"),
            "by_currency thresholds are spend; this program counts points.",
        ),
    ],
)
def test_bad_currency_thresholds_are_refused_with_what_to_fix(change, message):
    import copy

    rules = copy.deepcopy(RULES)
    change(rules)
    with pytest.raises(InvalidTierRules) as refused:
        TierRules.from_data(rules)
    assert str(refused.value) == message


def test_the_customer_sees_what_is_missing_in_their_own_currency(tenant, rates):
    from saleor_crm_plugin.graphql.core.context import CRMContext
    from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
    from saleor_crm_plugin.graphql.schema import schema

    kenji = "VXNlcjo0Mg=="
    place(tenant, "o-1", "kenji@example.jp", "JPY", 18000, NOV_1, user_id=kenji)
    apply(tenant, save_rules(tenant, TierRules.from_data(RULES)))
    result = schema.execute(
        "{ crmMe { tier { name nextTier missingForNext currency } } }",
        context_value=CRMContext(
            Principal(PrincipalKind.CUSTOMER, tenant, kenji, "kenji@example.jp")
        ),
    )
    assert result.errors is None, result.errors
    assert result.data["crmMe"]["tier"] == {
        "name": "Bronze", "nextTier": "Silver", "missingForNext": 2000, "currency": "JPY",
    }  # fmt: skip

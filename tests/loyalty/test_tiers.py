"""Tiers over the recorded store (base EUR, spend net of refunds at each order's FX rate):
Anna 191.09 (196.60 less a 5.51 refund), Yuki 97.49, Fahad 286.23 (two orders in KWD), the
guests' orders as recorded; refund.me's order was refunded in full (0)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_crm_plugin.loyalty.models import TierProgram, TierStatus
from saleor_crm_plugin.loyalty.tiers import InvalidTierRules, TierRules, apply, dry_run, save_rules
from saleor_crm_plugin.models import TimelineEntry
from tests.loopback import LoopbackServer, Request
from tests.loyalty.test_ledger import replay

pytestmark = pytest.mark.django_db(transaction=True)

RULES = {
    "basis": "spend",
    "window": "lifetime",
    "grace_days": 30,
    "tiers": [
        {"name": "Bronze", "entry": 0},
        {"name": "Silver", "entry": 10000, "retain": 8000},
        {"name": "Gold", "entry": 25000, "retain": 20000},
    ],
}


def moves(found) -> dict[str, tuple]:
    return {m.email: (m.from_tier, m.to_tier) for m in found}


class SaleorMetadata(LoopbackServer):
    """Saleor's updatePrivateMetadata, remembering what each user was given."""

    def __init__(self) -> None:
        self.private: dict[str, dict[str, str]] = {}
        self.down = False
        super().__init__(self.graphql)
        self.api_url = f"{self.base_url}/graphql/"

    def graphql(self, request: Request) -> tuple[int, object]:
        if self.down:
            return 503, b"maintenance"
        variables = request.json()["variables"]
        items = {i["key"]: i["value"] for i in variables["input"]}
        self.private.setdefault(variables["id"], {}).update(items)
        return 200, {"data": {"updatePrivateMetadata": {"errors": []}}}


@pytest.fixture
def saleor() -> Iterator[SaleorMetadata]:
    server = SaleorMetadata()
    yield server
    server.close()


@pytest.fixture
def store(tenant, rates, saleor):
    replay(tenant)
    tenant.saleor_api_url = saleor.api_url  # the recorded store now answers on loopback
    tenant.save(update_fields=["saleor_api_url"])
    return tenant


def test_a_dry_run_lists_who_would_move_and_applying_moves_exactly_those(store):
    program = save_rules(store, TierRules.from_data(RULES), by="staff@example.com")
    now = timezone.now()
    planned = dry_run(store, TierRules.from_data(program.rules), now)
    found = moves(planned)
    assert found["anna.mueller@example.de"] == (None, "Silver")
    assert found["fahad@example.kw"] == (None, "Gold")
    assert found["refund.me@example.com"] == (None, "Bronze")
    assert moves(apply(store, program, now)) == found
    assert dict(TierStatus.objects.values_list("profile__email", "tier")) == {
        email: to for email, (_, to) in found.items()
    }
    assert dry_run(store, TierRules.from_data(program.rules)) == []  # nothing left to move
    entry = TimelineEntry.objects.get(kind="crm.tier.changed", profile__email="fahad@example.kw")
    assert entry.data == {"from": None, "to": "Gold", "program_version": 1}


def test_saleor_holds_each_account_holders_tier_in_private_metadata(store, saleor):
    from tests.graphql.conftest import ANNA

    apply(store, save_rules(store, TierRules.from_data(RULES)))
    assert saleor.private[ANNA] == {"crm.tier": "Silver"}
    accounts = set(
        TierStatus.objects.filter(profile__user_id__isnull=False).values_list(
            "profile__user_id", flat=True
        )
    )
    assert set(saleor.private) == accounts  # guests have no Saleor user to write to


def test_saleor_away_never_undoes_a_tier_change(store, saleor):
    saleor.down = True
    moved = apply(store, save_rules(store, TierRules.from_data(RULES)))
    assert len(moved) == TierStatus.objects.count() > 0
    assert saleor.private == {}


def test_raised_thresholds_start_a_grace_period_and_only_then_move_down(store):
    first = save_rules(store, TierRules.from_data(RULES))
    apply(store, first)
    stricter = {
        **RULES,
        "tiers": [*RULES["tiers"][:2], {"name": "Gold", "entry": 30000, "retain": 29000}],
    }
    second = save_rules(store, TierRules.from_data(stricter))
    now = timezone.now()
    assert dry_run(store, TierRules.from_data(second.rules), now) == []  # grace starts, no move
    apply(store, second, now)
    fahad = TierStatus.objects.get(profile__email="fahad@example.kw")
    assert (fahad.tier, fahad.below_since) == ("Gold", now)
    later = now + timedelta(days=31)
    planned = dry_run(store, TierRules.from_data(second.rules), later)
    assert moves(planned) == {"fahad@example.kw": ("Gold", "Silver")}
    assert moves(apply(store, second, later)) == moves(planned)
    fahad.refresh_from_db()
    assert (fahad.tier, fahad.below_since, fahad.program_version) == ("Silver", None, 2)
    assert TierProgram.objects.get(version=1).rules == TierRules.from_data(RULES).as_data()


def test_a_rolling_window_counts_only_recent_orders(store):
    apply(store, save_rules(store, TierRules.from_data(RULES)))
    recent = save_rules(store, TierRules.from_data({**RULES, "window": "rolling_days:7"}))
    rules = TierRules.from_data(recent.rules)
    assert dry_run(store, rules, timezone.now()) == []  # the orders are within seven days
    apply(store, recent, timezone.now() + timedelta(days=10))  # they are not: grace starts
    after_grace = timezone.now() + timedelta(days=41)
    assert moves(dry_run(store, rules, after_grace)) == {
        "anna.mueller@example.de": ("Silver", "Bronze"),
        "fahad@example.kw": ("Gold", "Bronze"),
    }


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"basis": "visits"}, "basis"),
        ({"window": "forever"}, "window"),
        ({"grace_days": -1}, "grace_days"),
        ({"tiers": []}, "at least one tier"),
        ({"tiers": [{"name": "A", "entry": 10}, {"name": "B", "entry": 5}]}, "lowest entry up"),
        ({"tiers": [{"name": "A", "entry": 10, "retain": 20}]}, "retain"),
        ({"tiers": [{"name": "A"}]}, "incomplete"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(change, words):
    with pytest.raises(InvalidTierRules, match=words):
        TierRules.from_data({**RULES, **change})


def gql(query: str, principal, variables: dict | None = None) -> dict:
    from saleor_crm_plugin.graphql.core.context import CRMContext
    from saleor_crm_plugin.graphql.schema import schema

    result = schema.execute(query, variable_values=variables, context_value=CRMContext(principal))
    assert result.errors is None, result.errors
    return result.data


def test_staff_save_try_and_apply_rules_and_the_customer_sees_their_tier(store):
    import json

    from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
    from tests.graphql.conftest import ANNA

    staff = Principal(
        PrincipalKind.STAFF, store, "VXNlcjoyMQ==", "lena@shop.de", frozenset({"MANAGE_USERS"})
    )
    saved = gql(
        "mutation($r: JSONString!) { crmTierRulesSave(rules: $r) { version createdBy } }",
        staff,
        {"r": json.dumps(RULES)},
    )
    assert saved["crmTierRulesSave"] == {"version": 1, "createdBy": "lena@shop.de"}
    tried = gql("mutation { crmTierDryRun { summary moves { email fromTier toTier } } }", staff)
    applied = gql("mutation { crmTierApply { summary moves { email fromTier toTier } } }", staff)
    assert tried["crmTierDryRun"]["moves"] == applied["crmTierApply"]["moves"]
    assert "1 customer would enter Gold" in tried["crmTierDryRun"]["summary"]
    assert "1 customer entered Gold" in applied["crmTierApply"]["summary"]
    anna = Principal(PrincipalKind.CUSTOMER, store, ANNA, "anna.mueller@example.de")
    tier = gql("{ crmMe { tier { name nextTier missingForNext } } }", anna)["crmMe"]["tier"]
    assert tier == {"name": "Silver", "nextTier": "Gold", "missingForNext": 25000 - 19109}


def test_a_customer_below_the_first_tier_sees_what_it_takes(store):
    """A storefront shows "spend 8.91 EUR more to reach Silver" before the first tier too."""
    from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
    from tests.graphql.conftest import ANNA

    rules = {**RULES, "tiers": [{"name": "Silver", "entry": 20000}, RULES["tiers"][2]]}
    apply(store, save_rules(store, TierRules.from_data(rules)))
    anna = Principal(PrincipalKind.CUSTOMER, store, ANNA, "anna.mueller@example.de")
    query = "{ crmMe { tier { name since nextTier missingForNext currency } } }"
    assert gql(query, anna)["crmMe"]["tier"] == {
        "name": None,
        "since": None,
        "nextTier": "Silver",
        "missingForNext": 20000 - 19109,
        "currency": "EUR",
    }


def test_the_daily_task_applies_each_stores_rules(store):
    from saleor_crm_plugin.loyalty.tasks import apply_tiers

    save_rules(store, TierRules.from_data(RULES))
    moved = apply_tiers.delay().get(timeout=30)  # eager in tests, as Celery runs it
    assert moved == TierStatus.objects.count() > 0
    assert apply_tiers.delay().get(timeout=30) == 0  # nobody moves twice


def test_orders_earn_at_the_tier_multiplier_of_the_moment(store):
    from saleor_crm_plugin.loyalty.ledger import sync_orders
    from saleor_crm_plugin.models import OrderRecord, PointsEntry

    gold_doubles = {
        **RULES,
        "tiers": [*RULES["tiers"][:2], {"name": "Gold", "entry": 25000, "multiplier": "2"}],
    }
    fahad_orders = list(
        OrderRecord.objects.filter(profile__email="fahad@example.kw").values_list(
            "order_id", flat=True
        )
    )
    before = dict(
        PointsEntry.objects.filter(source_id__in=fahad_orders).values_list("source_id", "points")
    )
    apply(store, save_rules(store, TierRules.from_data(gold_doubles)))  # Fahad is Gold now
    PointsEntry.objects.filter(source_id__in=fahad_orders).delete()  # as if they came in now
    sync_orders(store, fahad_orders)
    after = PointsEntry.objects.filter(source_id__in=fahad_orders)
    # twice the spend in points, floored once: 2 x 266.84 EUR gives 533, not 2 x 266
    assert {e.source_id: e.points for e in after} == {
        e.source_id: e.data["base_minor"] * 2 // 100 for e in after
    }
    assert sum(e.points for e in after) >= 2 * sum(before.values())
    assert {(e.data["tier"], e.data["multiplier"]) for e in after} == {("Gold", "2")}


def test_a_multiplier_out_of_range_is_refused():
    bad = {**RULES, "tiers": [{"name": "Gold", "entry": 0, "multiplier": "0"}]}
    with pytest.raises(InvalidTierRules, match="multiplier"):
        TierRules.from_data(bad)

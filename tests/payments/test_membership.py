"""Paid membership: a tier bought as a Stripe subscription, held while it runs.

Recorded store (base EUR): Anna has spent 191.09 EUR, which enters Silver; Gold needs 250 EUR
or a running Gold subscription (Stripe price ``price_gold``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe as stripe_client

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.loyalty.models import TierStatus
from saleor_crm_plugin.loyalty.tiers import TierRules, apply, dry_run, save_rules
from saleor_crm_plugin.models import Membership, Profile, TimelineEntry
from saleor_crm_plugin.payments.accounts import set_account
from tests.graphql.conftest import ANNA
from tests.payments.conftest import T0
from tests.payments.conftest import stripe as deliver
from tests.stripe_api import API_KEY, StripeStandIn

pytestmark = pytest.mark.django_db(transaction=True)
ANNA_EMAIL = "anna.mueller@example.de"
RULES = {
    "basis": "spend",
    "window": "lifetime",
    "grace_days": 30,
    "tiers": [
        {"name": "Bronze", "entry": 0},
        {"name": "Silver", "entry": 10000, "retain": 8000},
        {"name": "Gold", "entry": 25000, "retain": 20000, "stripe_price": "price_gold"},
    ],
}


@pytest.fixture
def stripe_api() -> Iterator[StripeStandIn]:
    server = StripeStandIn()
    previous = stripe_client.api_base
    stripe_client.api_base = server.base_url
    yield server
    stripe_client.api_base = previous
    server.close()


@pytest.fixture
def program(store):
    program = save_rules(store, TierRules.from_data(RULES))
    apply(store, program)
    return program


def anna() -> Profile:
    return Profile.objects.get(email=ANNA_EMAIL)


def tier_of(profile: Profile) -> str | None:
    status = TierStatus.objects.filter(profile=profile).first()
    return status.tier if status else None


def subscription(status: str, *, profile: Profile | None = None, **extra: Any) -> dict:
    who = profile or anna()
    meta = {"crm_tenant": str(who.tenant_id), "crm_profile": str(who.pk), "crm_tier": "Gold"}
    return {
        "id": "sub_anna",
        "object": "subscription",
        "customer": "cus_anna",
        "status": status,
        "metadata": meta,
        "current_period_end": T0 + 30 * 86400,
        "cancel_at_period_end": False,
        "ended_at": None,
        "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": "price_gold"}}]},
        **extra,
    }


def as_anna(query: str, tenant) -> tuple[Any, list]:
    principal = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, ANNA_EMAIL)
    result = schema.execute(query, context_value=CRMContext(principal=principal))
    return result.data, [getattr(e, "original_error", e) for e in result.errors or []]


CHECKOUT = """mutation { crmMembershipCheckout(tier: "%s", successUrl: "https://shop.example/ok",
  cancelUrl: "https://shop.example/cancel") { url sessionId } }"""


def test_a_customer_starts_a_subscription_checkout_for_a_tier(program, stripe_api):
    store = program.tenant
    set_account(store, api_key=API_KEY)
    data, errors = as_anna(CHECKOUT % "Gold", store)
    assert errors == []
    link = data["crmMembershipCheckout"]
    assert link["url"] == f"https://checkout.stripe.com/c/pay/{link['sessionId']}"
    (form,) = stripe_api.forms("/v1/checkout/sessions")
    assert form["mode"] == "subscription"
    assert (form["line_items[0][price]"], form["line_items[0][quantity]"]) == ("price_gold", "1")
    assert form["client_reference_id"] == f"{store.pk}:{anna().pk}"
    assert form["customer_email"] == ANNA_EMAIL  # to prefill Stripe's form
    metadata = {k: v for k, v in form.items() if "metadata" in k}
    assert metadata["subscription_data[metadata][crm_profile]"] == str(anna().pk)
    assert ANNA_EMAIL not in metadata.values()  # ids only, never the e-mail, in metadata


@pytest.mark.parametrize(
    ("tier", "api_key", "code"),
    [
        ("Silver", API_KEY, "tier_not_for_sale"),  # no Stripe price
        ("Diamond", API_KEY, "tier_not_for_sale"),
        ("Gold", "", "stripe_not_configured"),
        ("Gold", "sk_test_revoked", "stripe_error"),  # Stripe answers 401
    ],
)
def test_a_checkout_that_cannot_start_says_why(program, stripe_api, tier, api_key, code):
    set_account(program.tenant, api_key=api_key)
    data, errors = as_anna(CHECKOUT % tier, program.tenant)
    assert data == {"crmMembershipCheckout": None}
    assert [e.code for e in errors] == [code]
    if code != "stripe_error":
        assert stripe_api.requests == []


def test_an_active_subscription_grants_the_tier_and_the_customer_sees_it(program, saleor):
    store = program.tenant
    assert tier_of(anna()) == "Silver"
    deliver(store, "customer.subscription.created", subscription("active"), created=T0)
    assert tier_of(anna()) == "Gold"
    change = TimelineEntry.objects.filter(profile=anna(), kind="crm.tier.changed").latest("id")
    assert (change.data["from"], change.data["to"], change.data["reason"]) == (
        "Silver",
        "Gold",
        "membership",
    )
    assert saleor.private[ANNA] == {"crm.tier": "Gold"}
    data, _ = as_anna(
        "{ crmMe { tier { name } membership { tier status active renewsAt endsAt } } }", store
    )
    me = data["crmMe"]
    assert me["tier"] == {"name": "Gold"}
    assert (me["membership"]["tier"], me["membership"]["status"]) == ("Gold", "active")
    assert me["membership"]["active"] is True and me["membership"]["endsAt"] is None
    assert me["membership"]["renewsAt"].startswith(
        str(Membership.objects.get().current_period_end.date())
    )


def test_tier_runs_never_move_a_member_below_the_paid_tier(program):
    store = program.tenant
    deliver(store, "customer.subscription.created", subscription("active"), created=T0)
    rules = TierRules.from_data(program.rules)
    assert ANNA_EMAIL not in {m.email for m in dry_run(store, rules)}
    apply(store, program)
    assert tier_of(anna()) == "Gold"


def test_cancelling_drops_the_customer_at_once_to_what_their_spend_enters(program, saleor):
    store = program.tenant
    deliver(store, "customer.subscription.created", subscription("active"), created=T0)
    ending = subscription("active", cancel_at_period_end=True)
    deliver(store, "customer.subscription.updated", ending, created=T0 + 10)
    assert tier_of(anna()) == "Gold"  # paid until the period ends
    data, _ = as_anna("{ crmMe { membership { endsAt renewsAt } } }", store)
    assert data["crmMe"]["membership"]["renewsAt"] is None
    assert data["crmMe"]["membership"]["endsAt"] is not None
    ended = subscription("canceled", ended_at=T0 + 20)
    deliver(store, "customer.subscription.deleted", ended, created=T0 + 20)
    assert tier_of(anna()) == "Silver"  # no grace period: the tier was bought, not earned
    assert saleor.private[ANNA] == {"crm.tier": "Silver"}
    apply(store, program)  # and the next run agrees
    assert tier_of(anna()) == "Silver"


def test_subscription_events_in_reversed_order_end_as_in_order(program):
    store = program.tenant
    deliver(store, "customer.subscription.deleted", subscription("canceled"), created=T0 + 20)
    deliver(store, "customer.subscription.updated", subscription("active"), created=T0 + 10)
    deliver(store, "customer.subscription.created", subscription("incomplete"), created=T0)
    assert Membership.objects.get().status == "canceled"
    assert tier_of(anna()) == "Silver"


def test_within_one_second_the_later_status_wins(program):
    store = program.tenant
    deliver(store, "customer.subscription.updated", subscription("active"), created=T0)
    deliver(store, "customer.subscription.created", subscription("incomplete"), created=T0)
    assert Membership.objects.get().status == "active"
    assert tier_of(anna()) == "Gold"


def test_a_subscription_the_crm_did_not_start_is_left_alone(program):
    store = program.tenant
    foreign = {**subscription("active"), "id": "sub_other", "metadata": {}}
    deliver(store, "customer.subscription.created", foreign, created=T0)
    assert not Membership.objects.exists()
    assert tier_of(anna()) == "Silver"


def test_one_stripe_price_sells_one_tier_only():
    from saleor_crm_plugin.loyalty.tiers import InvalidTierRules

    tiers = [{**t, "stripe_price": "price_gold"} for t in RULES["tiers"][1:]]
    with pytest.raises(InvalidTierRules, match="one tier only"):
        TierRules.from_data({**RULES, "tiers": tiers})
    assert TierRules.from_data(RULES).as_data()["tiers"][2]["stripe_price"] == "price_gold"

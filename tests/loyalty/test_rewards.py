"""crmRedeemPoints through the app door: a voucher or gift card created through Saleor's API, or
nothing spent.

Saleor cannot be reached from CI, so a local HTTP server answers its three mutations; the
in-process variant (Saleor's models) is tested inside a real Saleor in tests/in_saleor.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.loyalty.ledger import balance_of
from saleor_crm_plugin.models import PointsEntry, Profile
from tests.graphql.conftest import ANNA
from tests.loopback import LoopbackServer, Request
from tests.loyalty.test_ledger import replay
from tests.webhooks.test_manifest import needs_schema, tools_python, validate

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["tools_python"]  # the fixture, imported to be shared

REDEEM = """
mutation($points: Int!, $channel: String!, $key: String!) {
  crmRedeemPoints(points: $points, channel: $channel, idempotencyKey: $key) {
    kind code voucherCode giftCardCode amount { amount currency } pointsSpent pointsAvailable
  }
}
"""
CHANNELS = {"channel-eur": ("Q2hhbm5lbDoz", "EUR"), "default-channel": ("Q2hhbm5lbDox", "USD")}


class SaleorDiscounts(LoopbackServer):
    """Saleor's channel query and voucher mutations, answering as Saleor does."""

    def __init__(self) -> None:
        self.fail_on: str | None = None  # a mutation name to answer with an error
        self.vouchers: dict[str, dict] = {}
        self.gift_cards: dict[str, dict] = {}
        self.no_code = False  # answer giftCardCreate without the code
        super().__init__(self.graphql)
        self.api_url = f"{self.base_url}/graphql/"

    def graphql(self, request: Request) -> tuple[int, object]:
        body = request.json()
        query, variables = body["query"], body["variables"]
        if "CRMChannel" in query:
            found = CHANNELS.get(variables["slug"])
            return 200, {"data": {"channel": found and {"id": found[0], "currencyCode": found[1]}}}
        error = [{"field": "code", "code": "INVALID", "message": "refused"}]
        if "CRMVoucherCreate" in query:
            if self.fail_on == "create":
                return 200, {"data": {"voucherCreate": {"voucher": None, "errors": error}}}
            voucher_id = f"Vm91Y2hlcjo{len(self.vouchers) + 1}"
            self.vouchers[voucher_id] = {"input": variables["input"]}
            return 200, {"data": {"voucherCreate": {"voucher": {"id": voucher_id}, "errors": []}}}
        if "CRMVoucherChannel" in query:
            if self.fail_on == "listing":
                return 200, {"data": {"voucherChannelListingUpdate": {"errors": error}}}
            self.vouchers[variables["id"]]["listing"] = variables["input"]
            return 200, {"data": {"voucherChannelListingUpdate": {"errors": []}}}
        if "CRMGiftCardCreate" in query:
            if self.fail_on == "gift_card":
                return 200, {"data": {"giftCardCreate": {"giftCard": None, "errors": error}}}
            card_id = f"R2lmdENhcmQ6{len(self.gift_cards) + 1}"
            code = None if self.no_code else f"SALEOR-GC-{len(self.gift_cards) + 1:04d}"
            self.gift_cards[card_id] = {"input": variables["input"], "code": code}
            card = {"id": card_id, "code": code}
            return 200, {"data": {"giftCardCreate": {"giftCard": card, "errors": []}}}
        if "CRMGiftCardDelete" in query:
            del self.gift_cards[variables["id"]]
            return 200, {"data": {"giftCardDelete": {"errors": []}}}
        if "CRMVoucherDelete" in query:
            del self.vouchers[variables["id"]]
            return 200, {"data": {"voucherDelete": {"errors": []}}}
        return 400, {"errors": [{"message": "unexpected query"}]}


@pytest.fixture
def saleor(tenant, rates) -> Iterator[SaleorDiscounts]:
    server = SaleorDiscounts()
    replay(tenant)
    tenant.saleor_api_url = server.api_url  # the recorded store now answers on loopback
    tenant.save(update_fields=["saleor_api_url"])
    anna = Profile.objects.get(email="anna.mueller@example.de")
    PointsEntry.objects.filter(profile=anna).update(available_at=timezone.now())  # 190
    yield server
    server.close()


def redeem(tenant, points: int, channel: str = "channel-eur", key: str = "redeem-0001") -> dict:
    anna = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, "anna.mueller@example.de")
    result = schema.execute(
        REDEEM,
        variable_values={"points": points, "channel": channel, "key": key},
        context_value=CRMContext(principal=anna),
    )
    return {"data": result.data, "errors": [str(e) for e in result.errors or []]}


def available(tenant) -> int:
    return balance_of(Profile.objects.get(email="anna.mueller@example.de").pk).available


def test_points_become_a_single_use_voucher_in_the_channels_currency(tenant, saleor):
    result = redeem(tenant, 150, channel="default-channel")
    assert result["errors"] == []
    paid = result["data"]["crmRedeemPoints"]
    # 150 points x 0.01 EUR = 1.50 EUR, at today's 1.20 USD per EUR: 1.80 USD
    assert paid["amount"] == {"amount": 1.8, "currency": "USD"}
    assert (paid["pointsSpent"], paid["pointsAvailable"]) == (150, 40)
    (voucher,) = saleor.vouchers.values()
    assert voucher["input"]["addCodes"] == [paid["voucherCode"]]
    assert (voucher["input"]["singleUse"], voucher["input"]["usageLimit"]) == (True, 1)
    assert voucher["listing"] == {
        "addChannels": [{"channelId": "Q2hhbm5lbDox", "discountValue": "1.80"}]
    }


def test_the_same_idempotency_key_returns_the_same_voucher_once(tenant, saleor):
    first = redeem(tenant, 100)["data"]["crmRedeemPoints"]
    again = redeem(tenant, 100)["data"]["crmRedeemPoints"]
    assert again["voucherCode"] == first["voucherCode"]
    assert len(saleor.vouchers) == 1 and available(tenant) == 90


@pytest.mark.parametrize("step", ["create", "listing"])
def test_when_saleor_refuses_nothing_is_spent_and_no_voucher_is_left(tenant, saleor, step):
    saleor.fail_on = step
    result = redeem(tenant, 100)
    assert result["data"]["crmRedeemPoints"] is None
    assert result["errors"] == ["The voucher could not be created; your points were not spent."]
    assert available(tenant) == 190
    assert saleor.vouchers == {}  # a voucher created before the listing failed was deleted


def test_saleor_down_spends_nothing(tenant, saleor):
    saleor.close()
    result = redeem(tenant, 100)
    assert result["errors"] == ["The voucher could not be created; your points were not spent."]
    assert available(tenant) == 190


def test_more_than_the_available_points_is_refused_with_the_numbers(tenant, saleor):
    result = redeem(tenant, 191)
    assert result["errors"] == ["191 points asked, 190 available"]
    assert saleor.vouchers == {}


def test_an_unknown_channel_is_named(tenant, saleor):
    result = redeem(tenant, 10, channel="nowhere")
    assert result["errors"] == ["Unknown channel 'nowhere'."]


def test_the_rewards_catalogue_is_valued_in_the_channel_currency_with_what_is_missing(
    tenant, saleor, settings
):
    settings.CRM_LOYALTY_REWARDS = "100,500"
    anna = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, "anna.mueller@example.de")
    result = schema.execute(
        '{ crmMe { rewards(channel: "default-channel") { points value { amount currency } '
        "missingPoints } } }",
        context_value=CRMContext(principal=anna),
    )
    assert result.errors is None, result.errors
    # 190 available; 1 point = 0.01 EUR = 0.012 USD at today's 1.20, rounded down per voucher
    assert result.data["crmMe"]["rewards"] == [
        {"points": 100, "value": {"amount": 1.2, "currency": "USD"}, "missingPoints": 0},
        {"points": 500, "value": {"amount": 6.0, "currency": "USD"}, "missingPoints": 310},
    ]


@pytest.fixture
def gift_cards(settings):
    settings.CRM_LOYALTY_REWARDS = "50,100:gift_card"


def test_a_gift_card_package_becomes_a_saleor_gift_card_in_the_channel_currency(
    tenant, saleor, gift_cards
):
    result = redeem(tenant, 100, channel="default-channel")
    assert result["errors"] == []
    paid = result["data"]["crmRedeemPoints"]
    # 100 points x 0.01 EUR = 1.00 EUR, at today's 1.20 USD per EUR: 1.20 USD
    assert paid == {
        "kind": "GIFT_CARD", "code": "SALEOR-GC-0001", "voucherCode": None,
        "giftCardCode": "SALEOR-GC-0001", "amount": {"amount": 1.2, "currency": "USD"},
        "pointsSpent": 100, "pointsAvailable": 90,
    }  # fmt: skip
    (card,) = saleor.gift_cards.values()
    assert card["input"]["balance"] == {"amount": "1.20", "currency": "USD"}
    assert card["input"]["isActive"] is True
    assert saleor.vouchers == {}
    again = redeem(tenant, 100, channel="default-channel")["data"]["crmRedeemPoints"]
    assert again == paid and len(saleor.gift_cards) == 1  # same key: same card, spent once
    other = redeem(tenant, 50, key="redeem-0002")["data"]["crmRedeemPoints"]
    assert (other["kind"], other["giftCardCode"]) == ("VOUCHER", None)  # 50 is a voucher


def test_a_gift_card_saleor_refuses_spends_nothing(tenant, saleor, gift_cards):
    saleor.fail_on = "gift_card"
    result = redeem(tenant, 100)
    assert result["data"]["crmRedeemPoints"] is None
    assert result["errors"] == ["The gift card could not be created; your points were not spent."]
    assert available(tenant) == 190


def test_a_gift_card_without_its_code_is_deleted_and_spends_nothing(tenant, saleor, gift_cards):
    saleor.no_code = True
    result = redeem(tenant, 100)
    assert result["errors"] == ["The gift card could not be created; your points were not spent."]
    assert saleor.gift_cards == {} and available(tenant) == 190


def test_the_catalogue_says_which_rewards_are_gift_cards(tenant, saleor, gift_cards):
    anna = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, "anna.mueller@example.de")
    result = schema.execute(
        '{ crmMe { rewards(channel: "channel-eur") { points kind } } }',
        context_value=CRMContext(principal=anna),
    )
    assert result.errors is None, result.errors
    assert result.data["crmMe"]["rewards"] == [
        {"points": 50, "kind": "VOUCHER"},
        {"points": 100, "kind": "GIFT_CARD"},
    ]


def test_a_reward_kind_that_does_not_exist_stops_start_up(settings):
    from django.core.checks import run_checks

    settings.CRM_LOYALTY_REWARDS = "500,1000:coupon"
    errors = [e.msg for e in run_checks() if e.id == "saleor_crm_plugin.E004"]
    assert errors == ["CRM_LOYALTY_REWARDS: 1000:coupon is neither a voucher nor a gift_card."]


@needs_schema
def test_every_document_the_issuer_sends_validates_against_saleors_schema(tools_python, tmp_path):
    from saleor_crm_plugin.loyalty import issuers

    documents = [issuers.CHANNEL, issuers.CREATE, issuers.LIST_IN_CHANNEL, issuers.DELETE,
                 issuers.GIFT_CARD_CREATE, issuers.GIFT_CARD_DELETE]  # fmt: skip
    paths = []
    for i, document in enumerate(documents):
        paths.append(tmp_path / f"issuer-{i}.graphql")
        paths[-1].write_text(document, encoding="utf-8")
    done = validate(tools_python, *paths)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("OK") == len(documents)

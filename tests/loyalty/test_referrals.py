"""Referrals over the recorded store: Anna (registered) refers new friends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import ANONYMOUS, Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.inbox.saleor_payloads import parse_order
from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.loyalty.ledger import sync_customers, sync_orders
from saleor_crm_plugin.loyalty.models import Referral
from saleor_crm_plugin.models import OrderRecord, PointsEntry, Profile
from saleor_crm_plugin.profiles.services import apply_events
from tests import recordings
from tests.graphql.conftest import ANNA
from tests.loyalty.test_ledger import replay

pytestmark = pytest.mark.django_db(transaction=True)

CLAIM = """
mutation($code: String!, $email: String!, $api: String) {
  crmReferralClaim(code: $code, email: $email, saleorApiUrl: $api) { accepted reason }
}
"""


@pytest.fixture
def store(tenant, rates, settings):
    settings.CRM_REFERRAL_FRIEND_BONUS = 100
    settings.CRM_REFERRAL_ADVOCATE_BONUS = 250
    settings.CRM_REFERRAL_LINK_TEMPLATE = "https://shop.example.de/?ref={code}"
    replay(tenant)
    return tenant


def annas_code(tenant) -> dict:
    anna = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, "anna.mueller@example.de")
    result = schema.execute("{ crmMe { referral { code link } } }", context_value=CRMContext(anna))
    assert result.errors is None, result.errors
    return result.data["crmMe"]["referral"]


def claim(code: str, email: str, ip: str = "198.51.100.7") -> dict:
    result = schema.execute(
        CLAIM,
        variable_values={"code": code, "email": email, "api": recordings.API_URL},
        context_value=CRMContext(ANONYMOUS, client_ip=ip),
    )
    return {"data": result.data, "errors": [str(e) for e in result.errors or []]}


def place(tenant, email: str, status: str = "UNFULFILLED", step: int = 0) -> Order:
    """The friend's first order (10.00 EUR), as the inbox applies it."""
    at = datetime(2026, 11, 25, tzinfo=UTC)
    order = Order(
        order_id="T3JkZXI6ZnJpZW5k", number="900", channel="channel-eur", currency="EUR",
        status=status, user_id=None, email=email, language="de", country="DE", created_at=at,
        updated_at=at + timedelta(minutes=step), total_gross_minor=1000, total_net_minor=840,
        charged_minor=1000, refunded_minor=0,
    )  # fmt: skip
    with transaction.atomic():
        apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, order.updated_at, order=order))])
        sync_orders(tenant, [order.order_id])
        sync_customers(tenant, [order.order_id], [])
    return order


def bonuses() -> list[tuple[str, str, int]]:
    rows = PointsEntry.objects.filter(source__startswith="referral")
    return sorted(rows.values_list("profile__email", "kind", "points"))


def test_a_referred_friends_first_order_rewards_both_once_past_the_return_window(store):
    referral = annas_code(store)
    assert referral["link"] == f"https://shop.example.de/?ref={referral['code']}"
    assert annas_code(store) == referral  # one code per customer
    assert claim(referral["code"].lower(), "Nina@Example.de")["data"]["crmReferralClaim"] == {
        "accepted": True,
        "reason": None,
    }
    order = place(store, "nina@example.de")
    place(store, "nina@example.de", step=1)  # an update of the same order: nothing twice
    assert bonuses() == [
        ("anna.mueller@example.de", "bonus", 250),
        ("nina@example.de", "bonus", 100),
    ]
    earn = PointsEntry.objects.get(source_id=order.order_id, kind="earn")
    assert set(
        PointsEntry.objects.filter(source__startswith="referral").values_list(
            "available_at", flat=True
        )
    ) == {earn.available_at}  # pending through the friend's return window
    assert Referral.objects.get().status == "rewarded"


def test_a_cancelled_first_order_takes_both_rewards_back(store):
    claim(annas_code(store)["code"], "nina@example.de")
    place(store, "nina@example.de")
    place(store, "nina@example.de", status="CANCELED", step=1)
    totals: dict[str, int] = {}
    for email, _kind, points in bonuses():
        totals[email] = totals.get(email, 0) + points
    assert totals == {"anna.mueller@example.de": 0, "nina@example.de": 0}


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("ANNA.MUELLER@example.de", "self_referral"),
        ("yuki.tanaka@example.jp", "not_a_new_customer"),
    ],
)
def test_self_referral_and_existing_customers_are_refused_with_the_reason(store, email, reason):
    result = claim(annas_code(store)["code"], email)
    assert result["data"]["crmReferralClaim"] == {"accepted": False, "reason": reason}
    assert Referral.objects.get().reason == reason  # kept, for the merchant to see


def test_many_claims_from_one_ip_in_a_week_are_refused(store):
    code = annas_code(store)["code"]
    answers = [claim(code, f"friend{i}@example.org")["data"]["crmReferralClaim"] for i in range(4)]
    assert [a["accepted"] for a in answers] == [True, True, True, False]
    assert answers[-1]["reason"] == "too_many_from_ip"
    assert claim(code, "other@example.org", ip="203.0.113.5")["data"]["crmReferralClaim"][
        "accepted"
    ]


def test_an_unknown_code_is_named(store):
    assert claim("NOSUCH", "nina@example.de")["errors"] == [
        "'NOSUCH' is not a referral code of this store"
    ]
    assert not Profile.objects.filter(email="nina@example.de").exists()


ANNAS_HOME = {"streetAddress1": "Lindenallee 12", "postalCode": "50968", "city": "Köln",
              "country": {"code": "DE"}}  # fmt: skip
ANNAS_CARD = {"brand": "visa", "firstDigits": "4000", "lastDigits": "0077", "expMonth": 9,
              "expYear": 2031}  # fmt: skip


def order_with(
    tenant, order_id: str, email: str, address: dict, card: dict | None, legacy: bool = False
) -> Order:
    """An order as our subscription delivers it (street and card details included)."""
    at = "2026-11-25T10:00:00+00:00"
    money = {"amount": Decimal("10.00"), "currency": "EUR"}
    payload = {
        "id": order_id, "number": order_id, "created": at, "updatedAt": at,
        "status": "UNFULFILLED", "channel": {"slug": "channel-eur", "currencyCode": "EUR"},
        "user": None, "userEmail": email, "languageCodeEnum": "DE",
        "shippingAddress": address, "billingAddress": address,
        "total": {"gross": money, "net": money}, "totalCharged": money,
        "totalRefunded": {"amount": Decimal(0), "currency": "EUR"}, "lines": [],
        "transactions": [] if legacy else [
            {"name": "Stripe", "paymentMethodDetails":
                card and {"__typename": "CardPaymentMethodDetails", "name": "card", **card}}
        ],
        "payments": [{"gateway": "dummy", "creditCard": card}] if legacy else [],
    }  # fmt: skip
    order = parse_order(payload)
    with transaction.atomic():
        apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, order.updated_at, order=order))])
        sync_orders(tenant, [order.order_id])
        sync_customers(tenant, [order.order_id], [])
    return order


@pytest.fixture
def annas_order(store):
    return order_with(store, "T3JkZXI6YW5uYQ", "anna.mueller@example.de", ANNAS_HOME, ANNAS_CARD)


def test_a_friend_shipping_to_the_advocates_address_is_refused(store, annas_order):
    claim(annas_code(store)["code"], "nina@example.de")
    same_place = {**ANNAS_HOME, "streetAddress1": "LINDENALLEE  12 ", "postalCode": "50 968"}
    order_with(store, "T3JkZXI6bmluYQ", "nina@example.de", same_place, None)
    referral = Referral.objects.get()
    assert (referral.status, referral.reason, referral.order_id) == (
        "refused",
        "same_address",
        "T3JkZXI6bmluYQ",
    )
    assert bonuses() == []
    assert PointsEntry.objects.filter(profile__email="nina@example.de").count() == 1  # own earn


def test_a_friend_paying_with_the_advocates_card_is_refused(store, annas_order):
    claim(annas_code(store)["code"], "nina@example.de")
    elsewhere = {**ANNAS_HOME, "streetAddress1": "Ringstraße 3"}
    order_with(store, "T3JkZXI6bmluYQ", "nina@example.de", elsewhere, ANNAS_CARD, legacy=True)
    referral = Referral.objects.get()
    assert (referral.status, referral.reason) == ("refused", "same_payment")
    assert bonuses() == []


def test_a_friend_with_their_own_address_and_card_rewards_both(store, annas_order):
    claim(annas_code(store)["code"], "nina@example.de")
    own_card = {**ANNAS_CARD, "lastDigits": "1881"}
    order_with(store, "T3JkZXI6bmluYQ", "nina@example.de",
               {**ANNAS_HOME, "streetAddress1": "Ringstraße 3"}, own_card)  # fmt: skip
    assert Referral.objects.get().status == "rewarded"
    assert bonuses() == [
        ("anna.mueller@example.de", "bonus", 250),
        ("nina@example.de", "bonus", 100),
    ]


def test_only_keyed_hashes_of_address_and_card_are_stored(store, annas_order):
    record = OrderRecord.objects.get(order_id=annas_order.order_id)
    hashes = [record.address_key, *record.payment_keys]
    assert len(hashes) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    row = OrderRecord.objects.values().get(pk=record.pk)
    rest = " ".join(str(v) for k, v in row.items() if k not in ("address_key", "payment_keys"))
    for clear in ("Lindenallee", "50968", "0077", "4000"):
        assert clear not in rest


def test_a_deleted_customers_orders_keep_no_address_or_card_hashes(store, annas_order):
    from saleor_crm_plugin.profiles.identity import delete_customers

    delete_customers(store.pk, [(ANNA, "anna.mueller@example.de", timezone.now())])
    record = OrderRecord.objects.get(order_id=annas_order.order_id)
    assert (record.profile_id, record.email, record.address_key, record.payment_keys) == (
        None, "", "", []
    )  # fmt: skip
    assert OrderRecord.objects.exclude(address_key="").count() == 0

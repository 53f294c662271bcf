"""Points per channel currency (CRM_LOYALTY_POINTS_PER_CURRENCY), base EUR, 1 point per EUR.

Rates of the order day (tests/data/rates.csv, 2026-11-01): 1 EUR = 160 JPY = 1.05 USD = 0.32 KWD.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.checks import run_checks
from django.db import transaction

from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.loyalty.ledger import sync_orders
from saleor_crm_plugin.models import PointsEntry
from saleor_crm_plugin.profiles.services import apply_events

pytestmark = pytest.mark.django_db(transaction=True)

AT = datetime(2026, 11, 1, 12, tzinfo=UTC)


def place(tenant, order_id: str, currency: str, total: int, refunded: int = 0, step: int = 0):
    order = Order(
        order_id=order_id, number=order_id, channel=f"channel-{currency.lower()}",
        currency=currency, status="UNFULFILLED", user_id=None, email="kenji@example.jp",
        language="ja", country="JP", created_at=AT, updated_at=AT + timedelta(minutes=step),
        total_gross_minor=total, total_net_minor=total, charged_minor=total,
        refunded_minor=refunded,
    )  # fmt: skip
    with transaction.atomic():
        apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, order.updated_at, order=order))])
        sync_orders(tenant, [order_id])


def earned(order_id: str) -> tuple[int, dict]:
    entry = PointsEntry.objects.get(source_id=order_id, kind="earn")
    return entry.points, entry.data


def reversed_total(order_id: str) -> int:
    rows = PointsEntry.objects.filter(source_id__startswith=order_id, kind="reverse")
    return sum(rows.values_list("points", flat=True))


@pytest.fixture
def per_currency(settings):
    settings.CRM_LOYALTY_POINTS_PER_CURRENCY = {"JPY": "0.01", "usd": "1", "KWD": "3.5"}


@pytest.mark.parametrize(
    ("currency", "total", "points", "basis_minor", "per_unit"),
    [
        ("JPY", 12345, 123, 12345, "0.01"),  # 12,345 JPY x 0.01 (on the base: 77.16 EUR, 77)
        ("USD", 4099, 40, 4099, "1"),  # 40.99 USD x 1 (on the base: 39.04 EUR, 39)
        ("KWD", 12345, 43, 12345, "3.5"),  # 12.345 KWD x 3.5 = 43.2075, three minor digits
    ],
)
def test_an_order_in_a_currency_with_its_own_rule_earns_on_its_own_total(
    tenant, rates, per_currency, currency, total, points, basis_minor, per_unit
):
    place(tenant, "o-1", currency, total)
    got, data = earned("o-1")
    assert got == points
    assert (data["basis"], data["basis_minor"], data["per_unit"]) == (
        currency,
        basis_minor,
        per_unit,
    )


def test_other_currencies_earn_on_the_base_currency_as_before(tenant, rates, settings):
    settings.CRM_LOYALTY_POINTS_PER_CURRENCY = {"JPY": "0.01"}
    place(tenant, "o-usd", "USD", 4099)  # 40.99 USD / 1.05 = 39.04 EUR
    place(tenant, "o-kwd", "KWD", 12345)  # 12.345 KWD / 0.32 = 38.58 EUR
    assert earned("o-usd")[0] == 39
    assert earned("o-kwd")[0] == 38
    assert earned("o-kwd")[1]["basis"] == "EUR"
    assert earned("o-kwd")[1]["basis_minor"] == 3858


def test_refunds_take_back_what_the_order_earned_even_after_the_rule_changed(
    tenant, rates, settings, per_currency
):
    place(tenant, "o-jpy", "JPY", 12345)
    place(tenant, "o-jpy", "JPY", 12345, refunded=6172, step=1)
    assert reversed_total("o-jpy") == -61  # floor(123 x 6172 / 12345)
    settings.CRM_LOYALTY_POINTS_PER_CURRENCY = {"JPY": "1"}  # 100 times more generous now
    place(tenant, "o-jpy", "JPY", 12345, refunded=12345, step=2)
    assert reversed_total("o-jpy") == -123  # exactly what was earned, no more
    place(tenant, "o-jpy", "JPY", 12345, refunded=12345, step=2)  # replayed: nothing twice
    assert PointsEntry.objects.filter(kind="reverse").count() == 2


def test_a_currency_rule_that_makes_no_sense_stops_start_up(settings):
    settings.CRM_LOYALTY_POINTS_PER_CURRENCY = {"JPX": "1", "USD": "0"}
    errors = [e for e in run_checks() if e.id == "saleor_crm_plugin.E003"]
    assert [e.msg.split(":")[0] for e in errors] == [
        "CRM_LOYALTY_POINTS_PER_CURRENCY['JPX'] = 1",
        "CRM_LOYALTY_POINTS_PER_CURRENCY['USD'] = 0",
    ]

"""Birthday bonus: the customer gives month and day once; a daily task grants it once a year."""

from __future__ import annotations

from datetime import date

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.loyalty.ledger import grant_birthday_bonuses
from saleor_crm_plugin.models import PointsEntry, Profile
from tests.graphql.conftest import ANNA
from tests.loyalty.test_ledger import replay

pytestmark = pytest.mark.django_db(transaction=True)
SET = "mutation($m: Int!, $d: Int!) { crmSetBirthday(month: $m, day: $d) { month day } }"


def set_birthday(tenant, month: int, day: int) -> dict:
    anna = Principal(PrincipalKind.CUSTOMER, tenant, ANNA, "anna.mueller@example.de")
    result = schema.execute(
        SET, variable_values={"m": month, "d": day}, context_value=CRMContext(anna)
    )
    return {"data": result.data, "errors": [str(e) for e in result.errors or []]}


def birthday_points() -> list[tuple[str, str, int]]:
    rows = PointsEntry.objects.filter(source="birthday")
    return sorted(rows.values_list("profile__email", "source_id", "points"))


@pytest.fixture
def store(tenant, rates, settings):
    settings.CRM_LOYALTY_BIRTHDAY_BONUS = 75
    replay(tenant)
    return tenant


def test_a_birthday_bonus_comes_once_a_year_on_the_day(store):
    assert set_birthday(store, 5, 17)["data"] == {"crmSetBirthday": {"month": 5, "day": 17}}
    anna = Profile.objects.get(email="anna.mueller@example.de").pk
    assert grant_birthday_bonuses(store, date(2027, 5, 16)) == 0
    assert grant_birthday_bonuses(store, date(2027, 5, 17)) == 1
    assert grant_birthday_bonuses(store, date(2027, 5, 17)) == 0  # the task ran twice
    assert grant_birthday_bonuses(store, date(2028, 5, 17)) == 1
    assert birthday_points() == [
        ("anna.mueller@example.de", f"{anna}:2027", 75),
        ("anna.mueller@example.de", f"{anna}:2028", 75),
    ]


def test_a_leap_day_birthday_is_celebrated_on_the_28th_in_other_years(store):
    set_birthday(store, 2, 29)
    assert grant_birthday_bonuses(store, date(2027, 2, 28)) == 1
    assert grant_birthday_bonuses(store, date(2028, 2, 28)) == 0  # 2028 has a 29th
    assert grant_birthday_bonuses(store, date(2028, 2, 29)) == 1


def test_the_birthday_is_set_once_and_must_be_a_real_date(store):
    assert set_birthday(store, 2, 30)["errors"] == ["Give a real month and day, e.g. 5 and 17."]
    set_birthday(store, 5, 17)
    assert set_birthday(store, 5, 17)["errors"] == []  # the same again is fine
    assert set_birthday(store, 6, 1)["errors"] == [
        "Your birthday is already set; ask the shop to correct it."
    ]

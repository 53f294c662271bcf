"""The feedback bonus: points for each piece of feedback, once per feedback."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.loyalty.ledger import balance_of, grant_feedback_bonus
from saleor_crm_plugin.models import PointsEntry, Profile
from saleor_crm_plugin.tenants.services import register_tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kenji(tenant) -> Profile:
    return Profile.objects.create(tenant=tenant, email="kenji@example.jp")


def test_feedback_earns_the_bonus_once_per_feedback(tenant, kenji, settings):
    settings.CRM_LOYALTY_FEEDBACK_BONUS = 25
    first = grant_feedback_bonus(tenant, kenji.pk, "review-17")
    again = grant_feedback_bonus(tenant, kenji.pk, "review-17")  # edited, or the event replayed
    grant_feedback_bonus(tenant, kenji.pk, "survey-3")
    assert first is not None and again is not None and again.pk == first.pk
    assert balance_of(kenji.pk).available == 50  # available at once, not pending
    assert sorted(PointsEntry.objects.values_list("source", "source_id", "points")) == [
        ("feedback", "review-17", 25),
        ("feedback", "survey-3", 25),
    ]


def test_no_bonus_when_it_is_off(tenant, kenji):
    assert grant_feedback_bonus(tenant, kenji.pk, "review-17") is None
    assert PointsEntry.objects.count() == 0


def test_a_customer_of_another_store_gets_nothing(tenant, kenji, settings):
    settings.CRM_LOYALTY_FEEDBACK_BONUS = 25
    other = register_tenant(api_url="https://other.example.com/graphql/", app_token="t-2")
    with pytest.raises(Profile.DoesNotExist):
        grant_feedback_bonus(other, kenji.pk, "review-17")
    with pytest.raises(ValueError, match="feedback needs an id"):
        grant_feedback_bonus(tenant, kenji.pk, "  ")
    assert PointsEntry.objects.count() == 0

"""Points expiry: per lot, first in first out, or after a time without orders.

Anna's lots in the recorded store: #21 earned 103 (5 reversed by a refund: 98 left) and #23
earned 92, both available 14 days after their orders of 2026-11-23.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_crm_plugin.loyalty.ledger import adjust, balance_of, expire_points, redeem
from saleor_crm_plugin.models import PointsEntry, Profile
from tests.loyalty.test_ledger import replay

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def anna(tenant, rates) -> Profile:
    replay(tenant)
    return Profile.objects.get(email="anna.mueller@example.de")


def test_lots_expire_first_in_first_out_after_what_was_spent(tenant, anna, settings):
    settings.CRM_LOYALTY_EXPIRY_DAYS = 365
    lots = PointsEntry.objects.filter(profile=anna, kind="earn").order_by("source_id")
    first, second = sorted(lots, key=lambda e: e.points)  # 92 and 103
    old = timezone.now() - timedelta(days=400)
    PointsEntry.objects.filter(pk=second.pk).update(available_at=old)  # 98 left after refund
    PointsEntry.objects.filter(profile=anna, kind="reverse").update(available_at=old)
    PointsEntry.objects.filter(pk=first.pk).update(available_at=timezone.now())  # fresh 92
    redeem(tenant, anna.pk, 60, redemption_id="spent-early")  # taken from the oldest lot
    assert expire_points(tenant) == 98 - 60
    assert balance_of(anna.pk).total == 92  # the fresh lot is untouched
    assert expire_points(tenant) == 0  # the same day again: nothing more
    entry = PointsEntry.objects.get(profile=anna, kind="expire")
    assert (entry.points, entry.reason) == (-38, "points older than 365 days")


def test_nothing_expires_while_the_lots_are_young(tenant, anna, settings):
    settings.CRM_LOYALTY_EXPIRY_DAYS = 365
    assert expire_points(tenant, timezone.now() + timedelta(days=100)) == 0


def test_inactivity_expires_the_available_balance_once(tenant, anna, settings):
    settings.CRM_LOYALTY_INACTIVITY_DAYS = 180
    adjust(tenant, anna.pk, 10, reason="welcome back", actor="staff", adjustment_id="a1")
    assert expire_points(tenant, timezone.now() + timedelta(days=30)) == 0  # she ordered lately
    later = timezone.now() + timedelta(days=200)
    assert expire_points(tenant, later) > 200  # everybody who has not ordered since
    entry = PointsEntry.objects.get(profile=anna, kind="expire")
    assert (entry.points, entry.source) == (-200, "inactivity")  # 98 + 92 + 10
    assert balance_of(anna.pk, later).total == 0
    assert expire_points(tenant, later + timedelta(days=1)) == 0  # once per inactive period


def test_expiry_is_off_unless_configured(tenant, anna):
    assert expire_points(tenant, timezone.now() + timedelta(days=5000)) == 0

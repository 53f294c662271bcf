"""A guest's history folding into an account keeps one active recovery flow per customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_crm_plugin.models import Profile, RecoveryFlow
from saleor_crm_plugin.profiles.identity import merge_guests_into_accounts

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def flow(tenant, profile: Profile, cart_changed: datetime) -> RecoveryFlow:
    return RecoveryFlow.objects.create(
        tenant=tenant,
        profile=profile,
        checkout_id=f"cart-{profile.pk}",
        currency="EUR",
        checkout_updated_at=cart_changed,
        delays_hours=[1, 24],
        next_due_at=cart_changed + timedelta(hours=1),
        status="active",
        started_at=cart_changed + timedelta(hours=1),
    )


@pytest.mark.parametrize("account_has_a_flow", [True, False])
def test_the_account_keeps_one_active_flow(tenant, account_has_a_flow):
    account = Profile.objects.create(tenant=tenant, email="gina@example.de", user_id="VXNlcjo5")
    guest = Profile.objects.create(tenant=tenant, email="gina@example.de")
    guest_flow = flow(tenant, guest, T0 + timedelta(days=1))
    own = flow(tenant, account, T0) if account_has_a_flow else None

    assert merge_guests_into_accounts(tenant.pk, ["gina@example.de"]) == {account.pk}
    assert not Profile.objects.filter(pk=guest.pk).exists()
    active = RecoveryFlow.objects.filter(status="active")
    assert [f.profile_id for f in active] == [account.pk]
    kept = own if own is not None else guest_flow
    assert active.get().pk == kept.pk  # the account's own flow wins, else the guest's
    if own is not None:
        guest_flow.refresh_from_db()
        assert (guest_flow.profile_id, guest_flow.stop_reason) == (account.pk, "merged")

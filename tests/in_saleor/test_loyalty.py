"""Rewards inside a real Saleor 3.24: the voucher is created with Saleor's own models.

Run by hand (see ``conftest.py``); skipped where Saleor is absent.
"""

from __future__ import annotations

import pytest

pytest.importorskip("saleor.plugins.manager", reason="Saleor is not installed here")

from django.utils import timezone

from saleor_crm_plugin.inbox.services import drain
from saleor_crm_plugin.loyalty.issuers import SaleorORMIssuer
from saleor_crm_plugin.loyalty.ledger import balance_of
from saleor_crm_plugin.loyalty.rewards import Channel, RewardError, redeem_for_voucher
from saleor_crm_plugin.models import PointsEntry, Profile
from saleor_crm_plugin.tenants.services import plugin_tenant

pytestmark = [
    pytest.mark.saleor,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture
def earned(crm, order_with_lines):
    from saleor.plugins.manager import get_plugins_manager

    get_plugins_manager(allow_replica=False).order_created(order_with_lines)
    drain()
    profile = Profile.objects.get(email=order_with_lines.user_email.lower())
    PointsEntry.objects.filter(profile=profile).update(available_at=timezone.now())
    return profile, order_with_lines


def test_points_become_a_voucher_saleor_itself_holds(earned):
    from saleor.discount.models import VoucherCode

    profile, order = earned
    before = balance_of(profile.pk).available
    assert before == 98  # 98.40 USD, 1 point per USD (base USD)
    channel = Channel(order.channel.slug, order.channel.currency_code)
    voucher = redeem_for_voucher(
        plugin_tenant("USD"), profile.pk, 50, channel=channel, redemption_id="r-1",
        issuer=SaleorORMIssuer(),
    )  # fmt: skip
    code = VoucherCode.objects.get(code=voucher.code)
    listing = code.voucher.channel_listings.get()
    assert (code.voucher.single_use, code.voucher.usage_limit) == (True, 1)
    assert (listing.channel_id, str(listing.discount_value)) == (order.channel_id, "0.500")
    assert balance_of(profile.pk).available == before - 50


def test_a_gift_card_package_becomes_a_gift_card_saleor_itself_holds(earned, settings):
    from saleor.giftcard.models import GiftCard

    settings.CRM_LOYALTY_REWARDS = "50:gift_card"
    profile, order = earned
    channel = Channel(order.channel.slug, order.channel.currency_code)
    card = redeem_for_voucher(
        plugin_tenant("USD"), profile.pk, 50, channel=channel, redemption_id="r-gc",
        issuer=SaleorORMIssuer(),
    )  # fmt: skip
    held = GiftCard.objects.get(code=card.code)
    assert card.kind == "gift_card" and held.is_active
    assert (held.currency, str(held.current_balance_amount)) == ("USD", "0.500")
    assert balance_of(profile.pk).available == 98 - 50


def test_a_voucher_saleor_cannot_hold_spends_nothing(earned):
    from saleor.discount.models import Voucher

    profile, _ = earned
    with pytest.raises(RewardError, match="no channel"):
        redeem_for_voucher(
            plugin_tenant("USD"), profile.pk, 50, channel=Channel("nowhere", "USD"),
            redemption_id="r-2", issuer=SaleorORMIssuer(),
        )  # fmt: skip
    assert balance_of(profile.pk).available == 98
    assert not Voucher.objects.exists()


def test_a_tier_change_lands_in_the_customers_private_metadata_in_saleor(earned):
    from saleor.account.models import User

    from saleor_crm_plugin.loyalty.tiers import TierRules, apply, save_rules

    profile, order = earned
    order.user.save()  # the order's customer is a registered Saleor user
    tenant = plugin_tenant("USD")
    rules = {"tiers": [{"name": "Member", "entry": 0}, {"name": "VIP", "entry": 5000}]}
    apply(tenant, save_rules(tenant, TierRules.from_data(rules)))
    user = User.objects.get(pk=order.user_id)
    assert user.get_value_from_private_metadata("crm.tier") == "VIP"  # 98.40 USD spent
    assert user.get_value_from_metadata("crm.tier") is None  # never in public metadata

"""Win-back: a customer who becomes dormant gets one e-mail per dormant spell, with a personal
voucher when the store gives one (Saleor on loopback, e-mail to a real SMTP server)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saleor_crm_plugin.lifecycle.winback import send_winbacks
from saleor_crm_plugin.messaging import services as outbox
from saleor_crm_plugin.models import Message, Profile
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent
from saleor_crm_plugin.segments.scores import recompute
from saleor_crm_plugin.tenants import store_settings
from tests.recovery.saleor_vouchers import saleor
from tests.segments.store import NOW, build_store, place

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["saleor"]  # the fixture

EVE = "eve@example.de"  # one order on Jun 1: dormant on Nov 28 (store cadence 30 days)


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content().replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def dormant_eve(tenant):
    build_store(tenant)
    recompute(tenant, NOW)
    eve = Profile.objects.get(email=EVE)
    grant_consent(eve, "marketing_email", source=Source.CHECKOUT, wording_version="v1")
    return eve


def test_a_dormant_customer_is_won_back_once_per_dormant_spell(tenant, smtp, saleor, dormant_eve):
    store_settings.save(tenant, {"winback_discount": "15%/14"})
    assert send_winbacks(tenant, NOW) == 1  # only Eve is dormant
    assert send_winbacks(tenant, NOW + timedelta(hours=1)) == 0  # same spell
    assert outbox.send_due(NOW) == 1
    [mail] = smtp.to(EVE)
    assert str(mail["Subject"]) == "Wir vermissen Sie bei Nordwind"
    [voucher] = saleor.vouchers.values()
    [code] = voucher["input"]["addCodes"]
    text = text_of(mail)
    assert f"Ihr persönlicher Rabattcode: {code}" in text and "Rabatt: 15 %" in text
    assert "Gültig bis 12. Dez. 2026, 13:00." in text  # 14 days, on her clock in Berlin
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # She orders again: no longer dormant, nothing more.
    back = NOW + timedelta(days=1)
    place(tenant, "eve-1", EVE, 100, back)
    recompute(tenant, back)
    assert send_winbacks(tenant, back) == 0
    # Two years later she has drifted off again: a new spell, a new e-mail and a new code.
    later = NOW + timedelta(days=800)
    recompute(tenant, later)
    assert send_winbacks(tenant, later) == 1
    assert outbox.send_due(later + timedelta(days=2)) == 1
    first, second = smtp.to(EVE)
    assert len(saleor.vouchers) == 2 and code not in text_of(second)
    assert Message.objects.filter(kind="win_back", profile=dormant_eve).count() == 2


def test_without_consent_the_win_back_is_recorded_as_skipped_and_no_voucher_made(
    tenant, smtp, saleor
):
    build_store(tenant)
    recompute(tenant, NOW)
    store_settings.save(tenant, {"winback_discount": "10.00/30"})
    assert send_winbacks(tenant, NOW) == 1
    assert send_winbacks(tenant, NOW) == 0  # not asked again for this spell
    message = Message.objects.get(kind="win_back")
    assert (message.status, message.reason) == ("skipped", "no_consent")
    assert saleor.requests == [] and smtp.messages == []


def test_when_saleor_is_down_the_win_back_waits_for_its_voucher(tenant, smtp, saleor, dormant_eve):
    store_settings.save(tenant, {"winback_discount": "10.00/30"})
    saleor.down = True
    assert send_winbacks(tenant, NOW) == 0
    assert not Message.objects.exists()
    saleor.down = False
    assert send_winbacks(tenant, NOW + timedelta(hours=1)) == 1
    assert outbox.send_due(NOW + timedelta(hours=1)) == 1
    [mail] = smtp.to(EVE)
    assert "Rabatt: 10,00 €" in text_of(mail)
    [voucher] = saleor.vouchers.values()
    assert voucher["input"]["discountValueType"] == "FIXED"
    assert voucher["listing"]["addChannels"][0]["discountValue"] == "10.00"

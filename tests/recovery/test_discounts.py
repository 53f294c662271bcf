"""Personal discounts in recovery reminders: a single-use Saleor voucher per step, created once,
shown in the e-mail, and never a reminder without the code it promised.

Saleor is a local HTTP server answering its voucher API (``saleor_vouchers.py``); the e-mails
go to a real SMTP server."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from saleor_crm_plugin.models import Message, RecoveryFlow
from saleor_crm_plugin.recovery import discounts
from saleor_crm_plugin.recovery.models import RecoveryStep
from saleor_crm_plugin.recovery.services import RETRY_AFTER
from saleor_crm_plugin.tenants import store_settings
from saleor_crm_plugin.tenants.store_settings import Discount, InvalidSettings

from .saleor_vouchers import saleor
from .test_reminders import EUR, MONDAY, customer, leave_cart, tick

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["saleor"]  # the fixture


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content().replace("\xa0", " ").replace("\u202f", " ")


def test_each_step_carries_its_own_voucher_in_the_channels_currency(tenant, smtp, saleor):
    store_settings.save(tenant, {"recovery_discounts": "10%/7,-,5.00/3"})
    customer(tenant, 1, "eva@example.de", "DE", "DE")
    leave_cart(tenant, 1, "eva@example.de", EUR, "tok-eva", Decimal("20.00"), MONDAY)

    for hours in (1, 24, 72):
        assert tick(tenant, MONDAY + timedelta(hours=hours)) == 1
    first, second, third = (text_of(m) for m in smtp.to("eva@example.de"))
    steps = list(RecoveryStep.objects.order_by("step"))
    one, three = steps[0].discount_code, steps[2].discount_code
    assert (steps[1].discount_code, steps[1].voucher_id) == ("", "")
    assert one.startswith("CRM-") and three.startswith("CRM-") and one != three

    assert (
        f"Ihr persönlicher Rabattcode: {one}" in first and "Ihr persönlicher Rabatt: 10 %" in first
    )
    # 7 days after the reminder went out (Monday 11:00 UTC), on Eva's clock in Berlin.
    assert "Gültig bis 9. Nov. 2026, 12:00." in first
    assert "CRM-" not in second
    assert f"Ihr persönlicher Rabattcode: {three}" in third and "Rabatt: 5,00 €" in third
    assert "Gültig bis 8. Nov. 2026, 11:00." in third

    assert len(saleor.vouchers) == 2
    [(pct_id, pct)] = [(k, v) for k, v in saleor.vouchers.items() if one in v["input"]["addCodes"]]
    assert pct["input"]["discountValueType"] == "PERCENTAGE"
    assert (pct["input"]["singleUse"], pct["input"]["usageLimit"]) == (True, 1)
    assert pct["input"]["endDate"] == "2026-11-09T11:00:00+00:00"
    assert pct["listing"] == {"addChannels": [{"channelId": "Q2hhbm5lbDoz", "discountValue": "10"}]}
    assert steps[0].voucher_id == pct_id
    [fixed] = saleor.by_code(three)
    assert fixed["input"]["discountValueType"] == "FIXED"
    assert fixed["listing"]["addChannels"][0]["discountValue"] == "5.00"


def test_when_saleor_is_down_the_reminder_waits_and_then_goes_once_with_its_code(
    tenant, smtp, saleor
):
    store_settings.save(tenant, {"recovery_discounts": "15%/2"})
    customer(tenant, 1, "eva@example.de", "DE", "DE")
    leave_cart(tenant, 1, "eva@example.de", EUR, "tok-eva", Decimal("20.00"), MONDAY)
    saleor.down = True

    due = MONDAY + timedelta(hours=1)
    assert tick(tenant, due) == 0
    assert (Message.objects.count(), RecoveryStep.objects.count()) == (0, 0)
    assert smtp.messages == [] and saleor.vouchers == {}
    flow = RecoveryFlow.objects.get()
    assert (flow.status, flow.step, flow.next_due_at) == ("active", 0, due + RETRY_AFTER)

    saleor.down = False
    assert tick(tenant, due + RETRY_AFTER - timedelta(minutes=1)) == 0  # not due again yet
    assert tick(tenant, due + RETRY_AFTER) == 1
    assert tick(tenant, due + RETRY_AFTER + timedelta(minutes=5)) == 0
    [mail] = smtp.to("eva@example.de")
    [step] = RecoveryStep.objects.all()
    assert f"Ihr persönlicher Rabattcode: {step.discount_code}" in text_of(mail)
    assert len(saleor.vouchers) == 1


def test_asking_again_for_a_steps_voucher_finds_the_first_one(tenant, saleor):
    """A worker that died after Saleor created the voucher, before our commit, retries with
    the same code: Saleor refuses it as taken and the voucher made first is used."""
    start = datetime.fromisoformat("2026-11-02T11:00:00+00:00")
    ask = {"key": "recovery:7:0", "channel": "channel-eur", "currency": "EUR", "email": "e@x.de"}
    first = discounts.issue(tenant, Discount(True, Decimal(10), 7), starts=start, **ask)
    later = start + timedelta(hours=1)
    again = discounts.issue(tenant, Discount(True, Decimal(10), 7), starts=later, **ask)
    assert again == first  # same code, same voucher, same end
    assert len(saleor.vouchers) == 1
    other = discounts.issue(tenant, Discount(True, Decimal(10), 7), starts=start, **{
        **ask, "key": "recovery:7:1"})  # fmt: skip
    assert other.code != first.code and len(saleor.vouchers) == 2


def test_no_voucher_is_made_for_a_reminder_that_will_not_be_sent(tenant, smtp, saleor):
    store_settings.save(tenant, {"recovery_discounts": "10%/7"})
    leave_cart(tenant, 3, "nora@example.de", EUR, "tok-nora", Decimal("20.00"), MONDAY)
    assert tick(tenant, MONDAY + timedelta(hours=1)) == 0  # no consent
    assert saleor.vouchers == {} and saleor.requests == []
    assert RecoveryFlow.objects.get().stop_reason == "no_consent"


def test_a_channel_sets_its_own_discounts_and_wrong_ones_are_refused(tenant):
    saved = store_settings.save(
        tenant,
        {
            "recovery_discounts": "-,10%/7",
            "winback_discount": "15%",
            "channel_settings": '{"channel-jpy": {"recovery_discounts": "500/3"}}',
        },
    )
    assert saved.for_channel("channel-eur").recovery_discounts == (
        None,
        Discount(percentage=True, value=Decimal(10), days=7),
    )
    assert saved.for_channel("channel-jpy").step_discount(0) == Discount(False, Decimal(500), 3)
    assert saved.for_channel("channel-jpy").step_discount(2) is None
    assert saved.winback_discount == Discount(True, Decimal(15), 7)
    for bad in ("ten percent", "150%/7", "10%/0", "-5"):
        with pytest.raises(InvalidSettings) as refused:
            store_settings.save(tenant, {"recovery_discounts": bad})
        assert "recovery_discounts" in refused.value.problems
    assert store_settings.for_tenant(tenant).recovery_discounts[1] == Discount(
        True, Decimal(10), 7
    )  # nothing changed

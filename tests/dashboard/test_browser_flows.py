"""The order page's loyalty widget and the CRM page's flow editor in a real browser, inside the
host page that speaks the app-bridge (see test_browser.py), against the recorded store."""

# ruff: noqa: F811  (the fixtures imported below are the test functions' arguments)
from __future__ import annotations

import pytest

from tests.dashboard.test_browser import (  # noqa: F401  (fixtures, shared with the other pages)
    NARROW,
    WIDE,
    _skip_reason,
    anna,
    app_frame,
    browser,
    check_accessibility,
    open_page,
    shop,
    shot,
)
from tests.graphql.test_order_loyalty import ANNAS_REFUNDED, GUEST

pytestmark = [
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
    pytest.mark.django_db(transaction=True),
]


def _order_points(order_id: str) -> dict[str, int]:
    from saleor_crm_plugin.loyalty.models import PointsEntry

    found: dict[str, int] = {}
    for entry in PointsEntry.objects.filter(source="order", source_id__startswith=order_id):
        found[entry.kind] = found.get(entry.kind, 0) + entry.points
    return found


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280x800", "narrow"])
def test_order_widget_shows_the_points_of_annas_order(browser, shop, viewport):
    """Anna's refunded order: what it earned, what the refund took back, her balance and tier."""
    _profile, tier, available = anna()
    points = _order_points(ANNAS_REFUNDED)
    assert points["earn"] > 0 and points["reverse"] < 0
    page, frame, errors = open_page(
        browser, shop, "widgets/order", viewport=viewport, orderId=ANNAS_REFUNDED
    )
    frame.get_by_test_id("order-earned").wait_for()
    assert frame.get_by_role("heading", name="Loyalty points for this order").is_visible()
    assert frame.get_by_test_id("order-earned").inner_text() == f"+{points['earn']:,}"
    assert frame.get_by_test_id("order-reversed").inner_text() == f"-{-points['reverse']:,}"
    net = points["earn"] + points["reverse"]
    assert frame.get_by_test_id("order-net").inner_text() == f"+{net:,}"
    assert frame.get_by_test_id("order-rules").inner_text() == "Earned by the default earning rules"
    assert f"{available:,} available" in frame.get_by_test_id("order-balance").inner_text()
    assert frame.get_by_test_id("order-tier").inner_text() == tier
    frame.get_by_role("button", name="Open customer").click()
    page.wait_for_function("window.actions.includes('redirect')")
    width = app_frame(page).evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], "the widget scrolls sideways"
    shot(page, f"order-widget-{viewport['width']}")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_order_widget_says_when_an_order_is_a_guests_or_unknown(browser, shop):
    page, frame, errors = open_page(browser, shop, "widgets/order", locale="de", orderId=GUEST)
    guest = frame.get_by_test_id("order-guest")
    guest.wait_for()
    assert "fahad@example.kw" in guest.inner_text() and "Gast" in guest.inner_text()
    assert frame.get_by_test_id("order-earned").inner_text() == f"+{_order_points(GUEST)['earn']}"
    assert frame.get_by_role("button", name="Kunden öffnen").count() == 0  # no account to open
    shot(page, "order-widget-guest-de")
    check_accessibility(page)
    page.close()

    page, frame, errors = open_page(
        browser, shop, "widgets/order", orderId="T3JkZXI6bmV2ZXItc2Vlbg=="
    )
    frame.get_by_test_id("order-empty").wait_for()
    assert "has not received this order" in frame.get_by_test_id("order-empty").inner_text()
    assert frame.get_by_test_id("order-net").count() == 0
    check_accessibility(page)
    assert errors == []
    page.close()


def _python_preview(store, kind: str, locale: str, step: int = 1):
    from django.utils import timezone

    from saleor_crm_plugin.messaging.flows import preview

    return preview(store, kind, locale, step=step, now=timezone.now()).rendered


def test_flow_preview_in_german_shows_the_german_email(browser, shop):
    store = shop[0]
    german = _python_preview(store, "abandoned_checkout", "de")
    english = _python_preview(store, "abandoned_checkout", "en")
    assert german.subject != english.subject
    page, frame, errors = open_page(browser, shop, "crm")
    flow = frame.get_by_test_id("flow-abandoned_checkout")
    flow.wait_for()
    flow.get_by_label("Language (Abandoned checkout)").select_option("de")
    flow.get_by_role("button", name="Preview").click()
    subject = frame.get_by_test_id("preview-abandoned_checkout-subject")
    subject.wait_for()
    assert subject.inner_text() == f"Subject (German): {german.subject}"
    email = flow.locator("iframe")
    assert email.get_attribute("sandbox") == ""
    assert 'lang="de"' in email.get_attribute("srcdoc")
    shot(page, "crm-flow-preview-de-1280")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_flow_preview_in_arabic_is_right_to_left_on_a_phone(browser, shop):
    store = shop[0]
    arabic = _python_preview(store, "win_back", "ar")
    page, frame, errors = open_page(browser, shop, "crm", viewport=NARROW, locale="ar")
    flow = frame.get_by_test_id("flow-win_back")
    flow.wait_for()
    flow.get_by_role("button", name="معاينة").click()
    subject = frame.get_by_test_id("preview-win_back-subject")
    subject.wait_for()
    assert arabic.subject in subject.inner_text()
    assert 'dir="rtl"' in flow.locator("iframe").get_attribute("srcdoc")
    assert app_frame(page).evaluate("document.documentElement.dir") == "rtl"
    width = app_frame(page).evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], "the flow editor scrolls sideways"
    shot(page, "crm-flow-preview-ar-390")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_saving_recovery_steps_persists_and_a_bad_delay_is_refused(browser, shop):
    from playwright.sync_api import expect

    from saleor_crm_plugin.tenants import store_settings

    store = shop[0]
    page, frame, errors = open_page(browser, shop, "crm")
    flow = frame.get_by_test_id("flow-abandoned_checkout")
    flow.wait_for()
    flow.get_by_label("Hours after the last change").nth(1).fill("30")
    flow.get_by_label("Discount (10%/7 or 5.00/3, empty for none)").nth(2).fill("10%/7")
    flow.get_by_role("button", name="Save", exact=True).click()
    flow.get_by_role("status").wait_for()
    store.refresh_from_db()
    saved = store_settings.current_items(store)
    assert saved["recovery_delays_hours"] == "1,30,72"
    assert saved["recovery_discounts"] == "-,-,10%/7"
    # The page reads it back: the steps now say 30 h.
    expect(flow).to_contain_text("Step 2: 30 h after")

    flow.get_by_label("Hours after the last change").nth(0).fill("soon")
    flow.get_by_role("button", name="Save", exact=True).click()
    alert = frame.get_by_test_id("error-recovery_delays_hours")
    alert.wait_for()
    assert "increasing whole hours" in alert.inner_text()
    store.refresh_from_db()
    assert store_settings.current_items(store)["recovery_delays_hours"] == "1,30,72"

    win_back = frame.get_by_test_id("flow-win_back")
    win_back.get_by_label("Win-back discount (e.g. 15%/14, empty for none)").fill("15%/14")
    win_back.get_by_role("button", name="Save", exact=True).click()
    win_back.get_by_role("status").wait_for()
    store.refresh_from_db()
    assert store_settings.current_items(store)["winback_discount"] == "15%/14"
    shot(page, "crm-flow-steps-saved-1280")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_earning_rules_form_shows_each_problem_under_its_field(browser, shop):
    """Two wrong rules at once: each says what is wrong next to it, and nothing is saved; then
    a correct save is a new version the page shows again after a reload."""
    from saleor_crm_plugin.loyalty.models import EarningProgram

    page, frame, errors = open_page(browser, shop, "crm")
    per_unit = frame.get_by_label("Points per unit of the base currency")
    per_unit.wait_for()
    per_unit.fill("many")
    frame.get_by_label("Reward packages in points (e.g. 500, 2500:gift_card)").fill("500:coupon")
    frame.get_by_role("button", name="Save earning rules").click()
    frame.locator("#earning-points_per_unit-error").wait_for()
    assert "as a number" in frame.locator("#earning-points_per_unit-error").inner_text()
    assert "coupon" in frame.locator("#earning-rewards-error").inner_text()
    assert frame.locator("#earning-signup_bonus-error").count() == 0
    assert not EarningProgram.objects.filter(tenant=shop[0]).exists()

    per_unit.fill("2.5")
    frame.get_by_label("Reward packages in points (e.g. 500, 2500:gift_card)").fill(
        "500, 2500:gift_card"
    )
    frame.get_by_label("Own rate per order currency (e.g. JPY 0.01, KWD 3)").fill("JPY 0.02")
    frame.get_by_role("button", name="Save earning rules").click()
    frame.get_by_text("Version 1 in force.").wait_for()
    rules = EarningProgram.objects.get(tenant=shop[0]).rules
    assert rules["points_per_unit"] == "2.5"
    assert rules["points_per_currency"] == {"JPY": "0.02"}
    assert rules["rewards"] == [
        {"points": 500, "kind": "voucher"},
        {"points": 2500, "kind": "gift_card"},
    ]
    page.close()

    page, frame, errors = open_page(browser, shop, "crm")
    per_unit = frame.get_by_label("Points per unit of the base currency")
    per_unit.wait_for()
    assert per_unit.input_value() == "2.5"
    shot(page, "crm-earning-rules-form-1280")
    check_accessibility(page)
    assert errors == []
    page.close()


def _spend_a_reward_on_annas_order(store) -> str:
    """Anna redeems 150 points for a voucher, then Saleor sends her order again naming it."""
    import json
    from datetime import datetime, timedelta

    from django.utils import timezone

    from saleor_crm_plugin.inbox.services import accept, drain
    from saleor_crm_plugin.loyalty.models import EntryKind, PointsEntry
    from tests import recordings

    profile, _tier, _available = anna()
    code = "CRM-5A1E0F77B2"
    now = timezone.now()
    PointsEntry.objects.create(
        tenant=store, profile=profile, kind=EntryKind.REDEEM, points=-150, source="redemption",
        source_id="redeem-browser-1", created_at=now, available_at=now,
        data={"voucher": {"code": code, "amount_minor": 150, "currency": "EUR",
                          "channel": "channel-eur", "saleor_id": "Vm91Y2hlcjo5"}},
    )  # fmt: skip
    last = [d for d in recordings.deliveries() if ANNAS_REFUNDED.encode() in d.body][-1]
    item = json.loads(last.body)
    later = datetime.fromisoformat(item["order"]["updatedAt"]) + timedelta(seconds=1)
    item["order"].update(voucherCode=code, updatedAt=later.isoformat())
    item["issuedAt"] = later.isoformat()
    accept(store, event="order_updated", body=json.dumps(item).encode(), headers={})
    drain()
    return code


def test_order_widget_shows_the_points_redeemed_on_the_order(browser, shop):
    code = _spend_a_reward_on_annas_order(shop[0])
    page, frame, errors = open_page(browser, shop, "widgets/order", orderId=ANNAS_REFUNDED)
    redeemed = frame.get_by_test_id("order-redeemed")
    redeemed.wait_for()
    assert redeemed.inner_text() == (
        f"Redeemed 150 points on this order (code {code}, worth €1.50)"
    )
    assert errors == []
    page.close()

    page, frame, errors = open_page(
        browser, shop, "widgets/order", locale="de", orderId=ANNAS_REFUNDED
    )
    frame.get_by_test_id("order-redeemed").wait_for()
    text = frame.get_by_test_id("order-redeemed").inner_text()
    assert text.startswith("150 Punkte für diese Bestellung eingelöst") and code in text
    check_accessibility(page)
    assert errors == []
    page.close()

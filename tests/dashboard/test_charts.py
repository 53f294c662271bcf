"""The CRM page's RFM grid, revenue by flow and filtered customer list in a real browser, on
the recorded store (see test_browser.py for the host page that speaks the app-bridge)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

import pytest

from tests.dashboard import test_browser as host
from tests.dashboard.test_browser import (
    NARROW,
    WIDE,
    _amount,
    _skip_reason,
    _table,
    app_frame,
    check_accessibility,
    open_page,
    shot,
)
from tests.graphql.conftest import ANNA

# The browser and the recorded store with a staff token, as the other page tests use them.
browser = host.browser
shop = host.shop

pytestmark = [
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
    pytest.mark.django_db(transaction=True),
]


def _recent_store(store) -> None:
    """Move the recorded orders (a few days of November 2026) to end a month ago, keeping their
    spacing, so "the last 365 days" holds them whatever today is; then score the customers."""
    from django.db.models import F, Max
    from django.utils import timezone

    from saleor_crm_plugin.models import OrderRecord
    from saleor_crm_plugin.segments.scores import recompute

    orders = OrderRecord.objects.filter(tenant=store)
    newest = orders.aggregate(newest=Max("created_at"))["newest"]
    orders.update(created_at=F("created_at") + (timezone.now() - timedelta(days=30) - newest))
    recompute(store, timezone.now())


def _touch_orders(store) -> None:
    """The first purchase of one customer followed a cart reminder (its second), another
    customer's purchase came a day after a win-back e-mail: what the stored rows say."""
    from saleor_crm_plugin.models import Message, OrderRecord, RecoveryFlow
    from saleor_crm_plugin.profiles.events import NOT_PURCHASES

    purchases = list(
        OrderRecord.objects.filter(tenant=store, profile__isnull=False)
        .exclude(status__in=list(NOT_PURCHASES))
        .order_by("created_at")
    )
    cart = purchases[0]
    other = next(o for o in purchases if o.profile_id != cart.profile_id)
    RecoveryFlow.objects.create(
        tenant=store, profile_id=cart.profile_id, checkout_id="c-recovered", channel=cart.channel,
        currency=cart.currency, checkout_updated_at=cart.created_at - timedelta(days=2),
        delays_hours=[1, 24], step=2, status="recovered",
        started_at=cart.created_at - timedelta(days=2), recovered_order_id=cart.order_id,
        recovered_step=1, recovered_minor=cart.total_gross_minor,
        recovered_base_minor=cart.total_gross_base_minor,
    )  # fmt: skip
    sent = other.created_at - timedelta(days=1)
    Message.objects.create(
        tenant=store, profile_id=other.profile_id, purpose="marketing", kind="win_back",
        locale="en", dedupe_key="win_back:test", status="sent", created_at=sent, due_at=sent,
        sent_at=sent,
    )  # fmt: skip


def _period(frame, section):
    frame.get_by_test_id("kpi-customers").wait_for()
    frame.get_by_role("button", name="Last 365 days").click()
    frame.get_by_role("button", name="Last 365 days", pressed=True).wait_for()
    frame.get_by_test_id("chart-rfm").wait_for()
    first = date.fromisoformat(section.get_attribute("data-from"))
    stop = date.fromisoformat(section.get_attribute("data-to"))
    assert (stop - first).days == 365
    return first, stop


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280x800", "narrow"])
def test_merchant_sees_the_rfm_grid_and_revenue_by_flow_of_the_store(browser, shop, viewport):
    from saleor_crm_plugin.conf import crm_settings
    from saleor_crm_plugin.kpis.attribution import revenue_by_flow
    from saleor_crm_plugin.kpis.rfm import rfm_grid
    from saleor_crm_plugin.kpis.types import Slice

    store = shop[0]
    _recent_store(store)
    _touch_orders(store)
    page, frame, errors = open_page(browser, shop, "crm", viewport=viewport)
    first, stop = _period(frame, frame.get_by_test_id("kpis"))
    where = Slice.of_days(first, stop, crm_settings.STORE_TIME_ZONE)
    app = app_frame(page)

    grid = rfm_grid(store, where)
    assert sum(c.customers for c in grid.cells) > 0, "nobody scored: the grid would prove nothing"
    shown = _table(app, "rfm")
    assert shown == [
        [f"R {c.recency}, FM {c.fm}", c.group.replace("_", " ").capitalize(), f"{c.customers:,}"]
        for c in grid.cells
    ]
    legend = frame.get_by_test_id("rfm-groups").inner_text()
    for group, n in grid.groups.items():
        assert f"{group.replace('_', ' ').capitalize()} {n:,}" in legend

    flows = revenue_by_flow(store, where)
    assert {f.flow for f in flows} >= {"checkout", "win_back"}
    labels = {"checkout": "Abandoned checkout, reminder {step}", "win_back": "Win-back"}
    rows = _table(app, "flows")
    assert [r[0] for r in rows] == [labels[f.flow].format(step=f.step) for f in flows]
    for row, f in zip(rows, flows, strict=True):
        assert row[1:3] == [f"{f.orders:,}", f"{f.customers:,}"]
        assert _amount(f.revenue_minor, store.base_currency) in row[3]
    label = app.evaluate(
        "document.querySelector('[data-testid=chart-flows] [role=img]').getAttribute('aria-label')"
    )
    assert "Win-back" in label and "Abandoned checkout, reminder 2" in label
    frame.get_by_test_id("chart-flows").scroll_into_view_if_needed()
    assert app.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shot(page, f"crm-rfm-flows-{viewport['width']}")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_rfm_grid_and_flows_in_arabic_dark(browser, shop):
    """The year is picked before the default month has loaded, and the month's answer is held
    back until the year is on screen: the late answer must not replace the year's figures."""
    store = shop[0]
    _recent_store(store)
    _touch_orders(store)
    held = []

    def hold_the_first_kpis(route):
        if not held and "crmKpis" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page, frame, errors = open_page(
        browser, shop, "crm", viewport=NARROW, locale="ar", theme="dark",
        routes={"**/graphql/**": hold_the_first_kpis},
    )  # fmt: skip
    frame.get_by_role("button", name="آخر 365 يومًا").click()
    frame.get_by_role("button", name="آخر 365 يومًا", pressed=True).wait_for()
    frame.get_by_role("heading", name="الإيرادات حسب المسار").wait_for()
    assert len(held) == 1 and '"WEEK"' in held[0].request.post_data  # the month's
    with page.expect_response(lambda r: r.request == held[0].request):
        held[0].continue_()
    app = app_frame(page)
    app.evaluate("new Promise((done) => requestAnimationFrame(() => setTimeout(done, 100)))")
    frame.get_by_role("heading", name="العملاء حسب درجة RFM").wait_for()
    assert app.evaluate("document.documentElement.dir") == "rtl"
    assert len(_table(app, "rfm")) == 25
    assert any(r[0] == "استعادة العملاء" for r in _table(app, "flows"))
    assert app.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    frame.get_by_test_id("chart-rfm").scroll_into_view_if_needed()
    shot(page, "crm-rfm-flows-ar-dark")
    check_accessibility(page)
    assert errors == []
    page.close()


def _rows(app) -> list[str]:
    return app.evaluate(
        "[...document.querySelectorAll('[data-testid=customer-row]')].map((r) => r.dataset.email)"
    )


def _expect(frame, app, emails: list[str], total: int) -> None:
    app.wait_for_function(
        "(want) => { const got = [...document.querySelectorAll('[data-testid=customer-row]')]"
        ".map((r) => r.dataset.email);"
        " return got.length === want.length && got.every((x, i) => x === want[i]); }",
        arg=emails,
    )
    assert f"of {total:,}" in frame.get_by_test_id("customer-range").inner_text()


def _listed(store, **filters) -> tuple[list[str], int]:
    from saleor_crm_plugin.profiles.queries import ProfileFilter, SortField, search_profiles

    page = search_profiles(store, ProfileFilter(**filters), sort=SortField.SPENT, first=20)
    return [p.email for p in page.items], page.total


def test_filtering_the_customer_list_narrows_it_and_a_row_opens_saleors_page(browser, shop):
    from saleor_crm_plugin.models import Profile

    store = shop[0]
    _recent_store(store)
    anna = Profile.objects.get(tenant=store, user_id=ANNA)
    page, frame, errors = open_page(browser, shop, "crm")
    app = app_frame(page)
    everyone, total = _listed(store)
    assert total >= 2, "one customer: filtering would prove nothing"
    _expect(frame, app, everyone, total)

    # RFM group: Anna's.
    group = anna.scores.rfm_group
    frame.get_by_label("RFM group", exact=True).select_option(group)
    emails, n = _listed(store, rfm_groups=(group,))
    assert n < total
    _expect(frame, app, emails, n)
    # And her country: narrower or the same, never wider.
    frame.get_by_label("Countries (codes, comma-separated)").fill(anna.country.lower())
    emails, n2 = _listed(store, rfm_groups=(group,), countries=(anna.country,))
    assert anna.email in emails and n2 <= n
    _expect(frame, app, emails, n2)
    # Her tier instead, with a spend range that holds her.
    frame.get_by_role("button", name="Clear filters").click()
    _expect(frame, app, everyone, total)
    tier = anna.tier.tier
    frame.get_by_label("Loyalty tier", exact=True).select_option(tier)
    emails, n = _listed(store, tiers=(tier,))
    assert anna.email in emails and n < total
    _expect(frame, app, emails, n)
    frame.get_by_label("Search customers").fill("no such customer anywhere")
    frame.get_by_text("No customer matches these filters.").wait_for()
    frame.get_by_role("button", name="Clear filters").click()
    _expect(frame, app, everyone, total)

    # Anna's name opens her page in Saleor's dashboard: the app asks the dashboard to go there.
    page.evaluate(
        "window.redirects = []; window.addEventListener('message', (e) => {"
        " if (e.data && e.data.type === 'redirect') window.redirects.push(e.data.payload.to); })"
    )
    name = " ".join(x for x in (anna.first_name, anna.last_name) if x) or anna.email
    frame.get_by_role("button", name=f"Open {name} in Saleor").click()
    page.wait_for_function("window.redirects.length > 0")
    # The dashboard's own customer links encode the id (customerUrl in saleor-dashboard).
    assert page.evaluate("window.redirects") == [f"/customers/{quote(ANNA, safe='')}"]
    frame.get_by_test_id("customer-list").scroll_into_view_if_needed()
    shot(page, "crm-customer-list")
    check_accessibility(page)
    assert errors == []
    page.close()

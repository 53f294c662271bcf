"""The dashboard pages in a real browser, inside a host page that speaks the app-bridge as
Saleor's dashboard does, against a live CRM holding the recorded store.

Chromium is Debian's (/usr/bin/chromium, installed by scripts/browser), driven by Playwright for
Python; axe-core comes from frontend/node_modules (npm ci). Screenshots go to
artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from saleor_crm_plugin.dashboard.assets import AssetsMissing, current_build
from tests import recordings
from tests.graphql.conftest import ANNA

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
RULES = {
    "basis": "spend",
    "window": "lifetime",
    "grace_days": 30,
    "tiers": [
        {"name": "Bronze", "entry": 0},
        {"name": "Silver", "entry": 10000, "retain": 8000},
        {"name": "Gold", "entry": 25000, "retain": 20000},
    ],
}

# The dashboard's side of the app-bridge (saleor-dashboard's AppFrame): on the iframe's load it
# posts the handshake with the staff token, then the theme; every action the app dispatches is
# answered with {type: "response", payload: {actionId, ok: true}} and recorded for assertions.
HOST = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dashboard</title>
<style>body{margin:0}iframe{border:0;width:100vw;height:100vh}</style></head><body>
<iframe title="CRM" src="%(src)s"></iframe>
<script>
const config = %(config)s;
const frame = document.querySelector("iframe");
window.actions = [];
const send = (message) => frame.contentWindow.postMessage(message, config.origin);
window.sendToApp = send;
frame.addEventListener("load", () => {
  send({type: "handshake", payload: {token: config.token, version: 1,
        saleorVersion: "3.24.0", dashboardVersion: "3.24.0"}});
  send({type: "theme", payload: {theme: config.theme}});
});
window.addEventListener("message", (event) => {
  if (event.source !== frame.contentWindow) return;
  const {type, payload} = event.data || {};
  window.actions.push(type);
  if (payload && payload.actionId)
    send({type: "response", payload: {actionId: payload.actionId, ok: true}});
});
</script></body></html>"""


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing and scripts/browser could not install it (no network?)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


pytestmark = [
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        current_build()
    except AssetsMissing:
        pytest.fail("the front end is not built: run scripts/setup (scripts/frontend)")
    assert AXE.is_file(), "axe-core missing: npm ci in frontend/"
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse
    # database calls here; the test's own calls are plain synchronous ones (Playwright's advice).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def shop(store, issuer, live_server):
    """The recorded store with tiers applied, and a staff token the host page hands over."""
    from saleor_crm_plugin.loyalty.tiers import TierRules, apply, save_rules

    apply(store, save_rules(store, TierRules.from_data(RULES), by="staff@example.com"))
    token = issuer.token(
        user_id="VXNlcjox",
        staff=True,
        permissions=("MANAGE_USERS", "MANAGE_ORDERS"),
        email="staff@example.com",
        type="thirdparty",
    )
    return store, token, live_server.url


def open_page(
    browser, shop, view: str, *, viewport=WIDE, locale="en", theme="light", zone=None,
    routes=None, **query,
):  # fmt: skip
    _store, token, base = shop
    base = base.replace("localhost", "127.0.0.1")  # the live server listens on IPv4 only
    page = browser.new_page(viewport=viewport, timezone_id=zone)
    page.set_default_timeout(10000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    params = {
        "id": "QXBwOjE=",
        "saleorApiUrl": recordings.API_URL,
        "theme": theme,
        "locale": locale,
        **query,
    }
    src = f"{base}/dashboard/{view}?{urlencode(params)}"
    # Playwright answers this URL with the host page. It shares the app's origin: Chromium's
    # local network access checks block a loopback iframe in a page from another origin.
    host_url = base + "/__dashboard__"
    config = {"token": token, "theme": theme, "origin": base}
    html = HOST % {"src": src, "config": json.dumps(config)}
    page.route(host_url, lambda route: route.fulfill(content_type="text/html", body=html))
    for pattern, handler in (routes or {}).items():
        page.route(pattern, handler)
    page.goto(host_url)
    frame = page.frame_locator("iframe")
    page.wait_for_function("window.actions.includes('notifyReady')")
    return page, frame, errors


def app_frame(page):
    return next(f for f in page.frames if "/dashboard/" in f.url)


def check_accessibility(page) -> None:
    frame = app_frame(page)
    frame.add_script_tag(path=str(AXE))
    result = frame.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})"
    )
    serious = [
        (v["id"], v["help"], [(n["target"], n["failureSummary"]) for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], json.dumps(serious, indent=1)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def anna():
    from saleor_crm_plugin.loyalty.ledger import balance_of
    from saleor_crm_plugin.loyalty.models import TierStatus
    from saleor_crm_plugin.models import Profile

    profile = Profile.objects.get(user_id=ANNA)
    tier = TierStatus.objects.get(profile=profile).tier
    return profile, tier, balance_of(profile.pk).available


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280x800", "narrow"])
def test_customer_widget_shows_annas_tier_and_points(browser, shop, viewport):
    _profile, tier, available = anna()
    page, frame, errors = open_page(
        browser, shop, "widgets/customer", viewport=viewport, customerId=ANNA
    )
    frame.get_by_test_id("tier-name").wait_for()
    assert frame.get_by_test_id("tier-name").inner_text() == tier
    assert frame.get_by_test_id("points-available").inner_text() == f"{available:,}"
    assert frame.get_by_role("heading", name="Points history").is_visible()
    assert frame.get_by_role("heading", name="Loyalty tier").is_visible()
    width = app_frame(page).evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], "the widget scrolls sideways"
    shot(page, f"customer-widget-{viewport['width']}")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_customer_widget_shows_notes_tags_and_open_cases_due_in_the_staff_zone(browser, shop):
    from datetime import UTC, datetime

    from saleor_crm_plugin.service.cases import CaseInput, open_case
    from saleor_crm_plugin.service.notes import add_note, change_tags
    from saleor_crm_plugin.service.types import Actor

    profile, _tier, _available = anna()
    mia = Actor(kind="staff", user_id="VXNlcjoyMQ==", email="mia@nordwind.example")
    now = datetime.now(UTC)
    add_note(profile, "Prefers a call after 18:00.", mia, now)
    change_tags(profile, mia, now, add=["VIP", "tea lover"])
    due = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # already 2 December in Tokyo
    chipped = CaseInput(type="return", subject="Cup arrived chipped", due_at=due)
    open_case(profile, chipped, mia, now)
    page, frame, errors = open_page(
        browser, shop, "widgets/customer", zone="Asia/Tokyo", customerId=ANNA
    )
    frame.get_by_test_id("customer-tags").wait_for()
    assert frame.get_by_test_id("customer-tags").inner_text() == "tea lover · vip"
    assert frame.get_by_text("Prefers a call after 18:00.").is_visible()
    assert frame.get_by_role("heading", name="Open service cases").is_visible()
    assert frame.get_by_text("due Dec 2, 2026").is_visible()
    shot(page, "customer-widget-knowledge")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_adjusting_points_updates_the_balance(browser, shop):
    profile, _tier, before = anna()
    page, frame, errors = open_page(browser, shop, "actions/adjust-points", customerId=ANNA)
    frame.get_by_test_id("points-available").wait_for()
    assert frame.get_by_test_id("points-available").inner_text() == f"{before:,}"
    frame.get_by_label("Points (negative to deduct)").fill("250")
    frame.get_by_label("Reason").fill("Apology for a late parcel")
    frame.get_by_role("button", name="Adjust points").click()
    result = frame.get_by_test_id("adjust-result")
    result.wait_for()
    assert result.inner_text() == f"Points adjusted. New balance: {before + 250:,}"
    frame.get_by_text("Apology for a late parcel").wait_for()
    assert frame.get_by_test_id("points-available").inner_text() == f"{before + 250:,}"
    _p, _t, after = anna()
    assert after == before + 250
    shot(page, "adjust-points")
    check_accessibility(page)
    assert errors == []
    page.close()


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280x800", "narrow"])
def test_tier_dry_run_says_who_would_move(browser, shop, viewport):
    from saleor_crm_plugin.loyalty.tiers import TierRules, dry_run

    store = shop[0]
    lowered = json.loads(json.dumps(RULES))
    lowered["tiers"][1]["entry"] = 1
    lowered["tiers"][1]["retain"] = 1
    expected = Counter(
        (m.from_tier, m.to_tier) for m in dry_run(store, TierRules.from_data(lowered))
    )
    assert expected, "the lowered Silver threshold moves nobody: the test would prove nothing"

    page, frame, errors = open_page(browser, shop, "crm", viewport=viewport)
    frame.get_by_role("heading", name="Tier rules").wait_for()
    frame.get_by_label("Rules (JSON)").fill(json.dumps(lowered, indent=2))
    frame.get_by_role("button", name="Preview changes").click()
    summary = frame.get_by_test_id("dry-run")
    summary.wait_for()
    text = summary.inner_text()
    for (src, dst), n in expected.items():
        who = f"{n} customer{'s' if n != 1 else ''}"
        assert (
            f"{who} would rise from {src} to {dst}" if src else f"{who} would enter {dst}"
        ) in text
    shot(page, f"crm-dry-run-{viewport['width']}")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_arabic_dark_dashboard_is_right_to_left_and_dark(browser, shop):
    page, frame, errors = open_page(
        browser, shop, "widgets/customer", locale="ar", theme="dark", customerId=ANNA
    )
    frame.get_by_role("heading", name="مستوى الولاء").wait_for()
    app = app_frame(page)
    assert app.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "ar",
        "rtl",
    ]
    # Dark theme: light text (macaw-ui's default1 text colour on the dark palette).
    background = app.evaluate("getComputedStyle(document.querySelector('h2')).color")
    red, green, blue = (int(x) for x in background.split("(")[1].split(")")[0].split(",")[:3])
    assert red + green + blue > 3 * 170, background
    # The dashboard switches theme and language live, without reloading the app.
    page.evaluate("sendToApp({type: 'theme', payload: {theme: 'light'}})")
    page.evaluate("sendToApp({type: 'localeChanged', payload: {locale: 'de'}})")
    frame.get_by_role("heading", name="Treuestufe").wait_for()
    assert app.evaluate("document.documentElement.dir") == "ltr"
    light = app.evaluate("getComputedStyle(document.querySelector('h2')).color")
    assert light != background
    shot(page, "customer-widget-de-light")
    assert errors == []
    page.close()


def test_staff_export_a_customers_data_in_their_language(browser, shop):
    page, frame, errors = open_page(browser, shop, "actions/export", locale="fr", customerId=ANNA)
    frame.get_by_role("button", name="Préparer l'export").click()
    summary = frame.frame_locator("[data-testid=export-summary]")
    summary.get_by_text("anna.mueller@example.de").first.wait_for()
    frame.get_by_role("button", name="Télécharger le JSON").wait_for()
    check_accessibility(page)
    assert errors == []
    page.close()


def test_staff_erase_a_customer_after_confirming(browser, shop):
    from saleor_crm_plugin.models import DeletedCustomer, Profile

    page, frame, errors = open_page(browser, shop, "actions/erase", locale="de", customerId=ANNA)
    erase = frame.get_by_role("button", name="Daten löschen")
    frame.get_by_label("Grund").fill("Ticket 4711")
    assert erase.is_disabled()  # not before confirming
    frame.get_by_role("checkbox").check()
    erase.click()
    frame.get_by_test_id("erase-result").wait_for()
    assert not Profile.objects.filter(user_id=ANNA).exists()
    assert DeletedCustomer.objects.get(user_id=ANNA).reason == "Ticket 4711"
    assert errors == []
    page.close()


def _percent(rate) -> str:
    """Intl's en percent with at most one decimal, as the KPI section shows it."""
    if rate is None:
        return "—"
    text = f"{float(rate) * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _amount(minor: int, currency: str) -> str:
    from saleor_crm_plugin.money.currencies import minor_units

    digits = minor_units(currency)
    return f"{minor / 10**digits:,.{digits}f}"


def _table(app, test_id: str) -> list[list[str]]:
    return app.evaluate(
        """(id) => [...document.querySelectorAll(`[data-testid=${id}] tbody tr`)].map(
             (tr) => [...tr.children].map((c) => c.textContent))""",
        f"table-{test_id}",
    )


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280x800", "narrow"])
def test_crm_page_kpis_match_the_report_for_the_picked_period(browser, shop, viewport):
    from datetime import date, timedelta

    from django.db.models import F, Max
    from django.utils import timezone

    from saleor_crm_plugin.conf import crm_settings
    from saleor_crm_plugin.kpis.exposure import currency_exposure
    from saleor_crm_plugin.kpis.queries import kpis
    from saleor_crm_plugin.kpis.types import Slice
    from saleor_crm_plugin.models import OrderRecord
    from saleor_crm_plugin.segments.scores import recompute

    store = shop[0]
    # The recorded orders are of a few days in November 2026: move them to end a month ago,
    # keeping their spacing, so "the last 365 days" holds them whatever today is.
    orders = OrderRecord.objects.filter(tenant=store)
    newest = orders.aggregate(newest=Max("created_at"))["newest"]
    orders.update(created_at=F("created_at") + (timezone.now() - timedelta(days=30) - newest))
    recompute(store, timezone.now())
    page, frame, errors = open_page(browser, shop, "crm", viewport=viewport)
    frame.get_by_test_id("kpi-customers").wait_for()
    frame.get_by_role("button", name="Last 365 days").click()
    section = frame.get_by_test_id("kpis")
    frame.locator("[data-testid=kpis][data-from]").wait_for()
    frame.get_by_role("button", name="Last 365 days", pressed=True).wait_for()
    frame.get_by_test_id("kpi-customers").wait_for()
    first = date.fromisoformat(section.get_attribute("data-from"))
    stop = date.fromisoformat(section.get_attribute("data-to"))
    assert (stop - first).days == 365
    where = Slice.of_days(first, stop, crm_settings.STORE_TIME_ZONE)
    k = kpis(store, where, timezone.now())
    assert k.customers > 0, "no purchase in the period: the figures would prove nothing"

    figure = lambda name: frame.get_by_test_id(f"kpi-{name}").inner_text()  # noqa: E731
    assert figure("customers") == f"{k.customers:,}"
    assert figure("new") == f"{k.new_customers:,}"
    assert figure("returning") == f"{k.returning_customers:,}"
    assert figure("repeat") == _percent(k.repeat_purchase_rate)
    assert figure("churn") == _percent(k.churn.rate)
    assert _amount(k.net_revenue_minor, k.currency) in figure("revenue")
    assert _amount(k.recovery.revenue_minor, k.currency) in figure("recovered")
    assert _amount(k.average_order_minor or 0, k.currency) in figure("aov")

    app = app_frame(page)
    # Each chart: a titled figure whose picture has a summary and whose table holds the numbers.
    for chart in ("stages", "tiers", "recovery", "cohorts", "currency"):
        label = app.evaluate(
            "(id) => document.querySelector(`[data-testid=chart-${id}] [role=img]`)"
            ".getAttribute('aria-label')",
            chart,
        )
        assert label, chart
    tiers = {name: int(n.replace(",", "")) for name, n in _table(app, "tiers")}
    assert tiers == {name: n for name, n in k.tiers.items()}
    assert tiers, "no tier rows: the chart would prove nothing"
    stages = _table(app, "stages")
    assert len(stages) == len(k.stage_series)
    order = ("new", "active", "at_risk", "dormant", "lost")
    last = k.stage_series[-1].stages
    assert [int(x.replace(",", "")) for x in stages[-1][1:]] == [last.get(s, 0) for s in order]
    exposure = currency_exposure(store, where, timezone.now())
    expected = {e.currency: e.orders for e in exposure.totals}
    assert expected
    assert {row[0]: int(row[1].replace(",", "")) for row in _table(app, "currency")} == expected
    assert app.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shot(page, f"crm-kpis-{viewport['width']}")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_customer_widget_shows_annas_segment_consent_and_timeline(browser, shop):
    from django.utils import timezone

    from saleor_crm_plugin.predictions.models import CustomerPrediction
    from saleor_crm_plugin.predictions.services import predict_store
    from saleor_crm_plugin.privacy.models import Purpose, Source
    from saleor_crm_plugin.privacy.services import grant_consent, withdraw_consent
    from saleor_crm_plugin.profiles.models import TimelineEntry
    from saleor_crm_plugin.segments.models import CustomerScores
    from saleor_crm_plugin.segments.scores import recompute

    recompute(shop[0], timezone.now())
    predict_store(shop[0], timezone.now())
    profile, _tier, _available = anna()
    prediction = CustomerPrediction.objects.get(profile=profile)
    grant_consent(profile, Purpose.MARKETING_SMS, source=Source.STAFF)
    withdraw_consent(profile, Purpose.BEHAVIOUR_TRACKING, source=Source.STAFF)
    scores = CustomerScores.objects.get(profile=profile)
    entries = TimelineEntry.objects.filter(profile=profile).count()
    page, frame, errors = open_page(browser, shop, "widgets/customer", locale="de", customerId=ANNA)
    frame.get_by_test_id("rfm-group").wait_for()
    app = app_frame(page)
    german_groups = {
        "champions": "Champions",
        "loyal": "Treu",
        "active": "Aktiv",
        "needs_attention": "Braucht Aufmerksamkeit",
        "new": "Neu",
        "promising": "Vielversprechend",
        "at_risk": "Gefährdet",
        "previously_loyal": "Früher treu",
        "almost_lost": "Fast verloren",
        "dormant": "Inaktiv",
        "prospects": "Interessenten",
    }
    german_stages = {
        "new": "Neu",
        "active": "Aktiv",
        "at_risk": "Gefährdet",
        "dormant": "Inaktiv",
        "lost": "Verloren",
    }
    assert frame.get_by_test_id("rfm-group").inner_text() == german_groups[scores.rfm_group]
    assert frame.get_by_test_id("lifecycle-stage").inner_text() == german_stages[scores.stage]
    risk = frame.get_by_test_id("churn-risk").inner_text().replace("\xa0", " ")
    assert risk == f"{round(prediction.churn_risk * 100)} %"  # German percent
    value = prediction.value_12m_minor / 100
    shown = frame.get_by_test_id("predicted-value").inner_text()
    assert f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") in shown
    consents = frame.get_by_test_id("consents").inner_text()
    assert "Werbe-SMS" in consents and "Erteilt" in consents
    assert "Verhaltens-Tracking" in consents and "Widerrufen" in consents
    # The newest ten timeline entries, kinds read as words, never as "crm.consent.granted".
    frame.get_by_role("heading", name="Verlauf", exact=True).wait_for()
    timeline = app.evaluate("[...document.querySelectorAll('ol li')].map((li) => li.textContent)")
    assert len(timeline) == min(10, entries)
    assert "Einwilligung widerrufen" in timeline[0] and "Einwilligung erteilt" in timeline[1]
    assert not any("crm." in line for line in timeline), timeline
    shot(page, "customer-widget-segment-de")
    check_accessibility(page)
    assert errors == []
    page.close()


def _count_of(frame) -> str:
    """The builder's live count once no request is pending (debounced, then answered)."""
    box = frame.get_by_test_id("segment-count")
    frame.locator("[data-testid=segment-count][data-counting=false]").wait_for()
    return box.inner_text()


def test_segment_built_in_the_ui_counts_live_as_the_python_preview(browser, shop):
    from django.utils import timezone

    from saleor_crm_plugin.models import Profile
    from saleor_crm_plugin.segments.models import Segment
    from saleor_crm_plugin.segments.queries import preview

    store = shop[0]
    # "At least 2 orders AND (spent over 100 OR bought in the last 3650 days at least once)"
    rules = {
        "all": [
            {"field": "orders_count", "op": "gte", "value": 2},
            {
                "any": [
                    {"field": "spent", "op": "gt", "value": 100},
                    {"field": "orders_in_period", "days": 3650, "op": "gte", "value": 1},
                ]
            },
        ]
    }
    expected = preview(store, rules, timezone.now(), 1).count
    everyone = Profile.objects.filter(tenant=store).count()
    assert 0 < expected < everyone, "the rules must split the store for the count to prove anything"

    page, frame, errors = open_page(browser, shop, "crm")
    frame.get_by_role("heading", name="Segments").wait_for()
    frame.get_by_label("Segment name").fill("Regulars")
    frame.get_by_label("Field of condition 1", exact=True).select_option("orders_count")
    frame.get_by_label("Operator of condition 1", exact=True).select_option("gte")
    frame.get_by_label("Value of condition 1", exact=True).fill("2")
    frame.get_by_role("button", name="Add group").click()
    frame.get_by_label("How conditions combine (group 2)").select_option("any")
    frame.get_by_label("Field of condition 2.1").select_option("spent")
    frame.get_by_label("Operator of condition 2.1").select_option("gt")
    frame.get_by_label("Value of condition 2.1").fill("100")
    frame.get_by_role("group", name="Group 2").get_by_role("button", name="Add condition").click()
    frame.get_by_label("Field of condition 2.2").select_option("orders_in_period")
    frame.get_by_label("Operator of condition 2.2").select_option("gte")
    frame.get_by_label("Value of condition 2.2").fill("1")
    frame.get_by_label("Days of condition 2.2").fill("3650")
    word = "customer matches" if expected == 1 else "customers match"
    frame.get_by_text(f"{expected} {word} now").wait_for()
    assert _count_of(frame) == f"{expected} {word} now"

    frame.get_by_role("button", name="Save segment").click()
    frame.get_by_text("Segment “Regulars” saved").wait_for()
    saved = Segment.objects.get(tenant=store, name="Regulars")
    assert json.loads(json.dumps(saved.rules)) == rules
    row = frame.get_by_test_id("segment-list").get_by_role("row", name="Regulars")
    assert str(expected) in row.inner_text()
    shot(page, "crm-segment-builder-1280")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_campaign_created_and_launched_in_the_ui_is_in_crm_campaigns(browser, shop):
    from django.utils import timezone

    from saleor_crm_plugin.segments.services import save_segment
    from tests.graphql.conftest import GraphQL

    store, token, _base = shop
    segment = save_segment(
        store,
        name="Two orders or more",
        rules={"all": [{"field": "orders_count", "op": "gte", "value": 2}]},
        now=timezone.now(),
    )
    members = segment.members.filter(left_at__isnull=True).count()
    assert members > 0

    page, frame, errors = open_page(browser, shop, "crm")
    frame.get_by_role("heading", name="Campaigns").wait_for()
    frame.get_by_label("Campaign name").fill("Spring sale")
    frame.get_by_label("Audience type").select_option("segment")
    frame.get_by_label("Audience", exact=True).select_option(label="Two orders or more")
    frame.get_by_label("Wave size (empty: everyone at once)").fill("1")
    frame.get_by_label("Minutes between waves").fill("30")
    frame.get_by_label("Subject (en)").fill("Spring is here")
    frame.get_by_label("Message (en)").fill("Our **spring sale** starts today.")
    frame.get_by_role("button", name="Add language").click()
    frame.get_by_label("Language of version 2 in step 1").select_option("de")
    frame.get_by_label("Subject (de)").fill("Der Frühling ist da")
    frame.get_by_label("Message (de)").fill("Unser **Frühjahrsverkauf** beginnt heute.")
    frame.get_by_role("button", name="Save draft").click()
    frame.get_by_text("Campaign “Spring sale” saved.").wait_for()

    # The German version, as a customer in de-AT gets it, in a sandboxed frame.
    frame.get_by_label("Customer language (e.g. de-AT)").fill("de-AT")
    frame.get_by_role("button", name="Show preview").click()
    preview = frame.get_by_test_id("campaign-preview")
    preview.wait_for()
    assert "Der Frühling ist da" in preview.inner_text()
    iframe = preview.locator("iframe")
    assert iframe.get_attribute("sandbox") == ""
    assert "<strong>Frühjahrsverkauf</strong>" in (iframe.get_attribute("srcdoc") or "")

    frame.get_by_role("button", name="Launch").click()
    word = "customer" if members == 1 else "customers"
    frame.get_by_text(f"Campaign launched to {members} {word}.").wait_for()
    listed = frame.get_by_test_id("campaign-list").get_by_role("row", name="Spring sale")
    listed.get_by_text("Scheduled").wait_for()  # the list reloads after the launch
    assert f"0 of {members}" in listed.inner_text()
    waves = frame.get_by_test_id("campaign-waves").inner_text()
    assert f"Step 1: 0 of {members} waves released" in waves and "next wave" in waves

    data = GraphQL()(
        "{ crmCampaigns { name status audience segmentName waveSize waveMinutes"
        " steps { wavesTotal contents { locale subject } } } }",
        token=token,
    )
    assert "errors" not in data, data
    (campaign,) = data["data"]["crmCampaigns"]
    assert {k: campaign[k] for k in ("name", "status", "audience", "segmentName")} == {
        "name": "Spring sale",
        "status": "scheduled",
        "audience": members,
        "segmentName": "Two orders or more",
    }
    assert (campaign["waveSize"], campaign["waveMinutes"]) == (1, 30)
    assert campaign["steps"][0]["wavesTotal"] == members
    assert {c["locale"]: c["subject"] for c in campaign["steps"][0]["contents"]} == {
        "en": "Spring is here",
        "de": "Der Frühling ist da",
    }
    shot(page, "crm-campaign-launched-1280")
    check_accessibility(page)
    assert errors == []
    page.close()


def test_earning_rules_saved_in_the_ui_and_a_negative_bonus_refused(browser, shop):
    """In Arabic on a phone-sized screen: the form works right to left and narrow."""
    from saleor_crm_plugin.loyalty.models import EarningProgram

    page, frame, errors = open_page(browser, shop, "crm", viewport=NARROW, locale="ar")
    signup = frame.get_by_label("التسجيل", exact=True)
    signup.wait_for()
    signup.fill("50")
    frame.get_by_label("أيام بقاء النقاط معلقة (مهلة الإرجاع)").fill("30")
    frame.get_by_role("button", name="حفظ قواعد كسب النقاط").click()
    frame.get_by_text("النسخة 1 سارية.").wait_for()
    assert EarningProgram.objects.filter(tenant=shop[0]).count() == 1
    saved = EarningProgram.objects.get(tenant=shop[0]).rules
    assert (saved["signup_bonus"], saved["return_days"]) == (50, 30)

    signup.fill("-5")
    frame.get_by_role("button", name="حفظ قواعد كسب النقاط").click()
    alert = frame.locator("#earning-signup_bonus-error")
    alert.wait_for()
    assert "negative" in alert.inner_text()
    assert signup.get_attribute("aria-invalid") == "true"
    assert EarningProgram.objects.filter(tenant=shop[0]).count() == 1  # nothing saved
    assert app_frame(page).evaluate("document.documentElement.dir") == "rtl"
    width = app_frame(page).evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], "the earning rules form scrolls sideways"
    shot(page, "crm-earning-rules-ar-390")
    check_accessibility(page)
    assert errors == []
    page.close()

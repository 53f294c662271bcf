"""Revenue by flow (which message or recovered cart led to an order) and the RFM grid, on the
hand-built store of store.py."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from saleor_crm_plugin.campaigns.models import Campaign, CampaignMessage, CampaignStep
from saleor_crm_plugin.kpis.attribution import FlowRevenue, revenue_by_flow
from saleor_crm_plugin.kpis.rfm import rfm_grid
from saleor_crm_plugin.kpis.types import Slice
from saleor_crm_plugin.models import (
    CustomerScores,
    Message,
    OrderRecord,
    Profile,
    RecoveryFlow,
)
from saleor_crm_plugin.segments.groups import GRID
from saleor_crm_plugin.segments.scores import recompute

from .store import NOW, TOKYO, at, build_store, place

pytestmark = pytest.mark.django_db

Q1 = Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO)


@pytest.fixture
def store(tenant):
    build_store(tenant)
    return tenant


def _who(name: str, domain: str) -> Profile:
    return Profile.objects.get(email=f"{name}@example.{domain}")


def _message(store, profile, kind: str, sent, *, status: str = "sent") -> Message:
    return Message.objects.create(
        tenant=store, profile=profile, purpose="marketing", kind=kind, locale="en",
        dedupe_key=f"{kind}:{profile.pk}:{sent.isoformat()}", status=status,
        created_at=sent - timedelta(hours=1), due_at=sent,
        sent_at=sent if status == "sent" else None,
    )  # fmt: skip


def _touches(store) -> Campaign:
    """ann's cart recovered by its second reminder (ann-2, Mar 10; a campaign e-mail the day
    before loses to it), cem's first order after a win-back, his second after a campaign that
    came later than another win-back, dan's order 8 days after a win-back (outside the 5-day
    window), fay's after a post-purchase e-mail that was skipped (never reached her)."""
    ann, cem, dan, fay = _who("ann", "de"), _who("cem", "jp"), _who("dan", "kw"), _who("fay", "de")
    RecoveryFlow.objects.create(
        tenant=store, profile=ann, checkout_id="c-ann", channel="web-eur", currency="EUR",
        checkout_updated_at=at(2026, 3, 8), delays_hours=[1, 24], step=2, status="recovered",
        started_at=at(2026, 3, 8), recovered_order_id="ann-2", recovered_step=1,
        recovered_minor=20000, recovered_base_minor=20000,
    )  # fmt: skip
    spring = Campaign.objects.create(
        tenant=store, name="Spring", target_kind="stage", target_value="active",
        status="finished", created_at=at(2026, 3, 1), updated_at=at(2026, 3, 1),
        launched_at=at(2026, 3, 9),
    )  # fmt: skip
    step = CampaignStep.objects.create(campaign=spring, position=1, send_at=at(2026, 3, 9))
    for profile, sent in ((ann, at(2026, 3, 9)), (cem, at(2026, 3, 12))):
        message = _message(store, profile, "campaign", sent)
        CampaignMessage.objects.create(step=step, profile=profile, message=message, wave=1)
    _message(store, cem, "win_back", at(2026, 2, 8))
    _message(store, cem, "win_back", at(2026, 3, 11))
    _message(store, dan, "win_back", at(2026, 2, 25))
    _message(store, fay, "post_purchase", at(2026, 3, 24), status="skipped")
    return spring


def test_each_order_is_credited_once_to_the_flow_that_led_to_it(store):
    spring = _touches(store)
    found = revenue_by_flow(store, Q1)
    # cem-2: 32,000 JPY at 160 = 200 EUR; cem-1: 16,000 JPY = 100 EUR.
    assert found == [
        FlowRevenue("campaign", None, spring.pk, "Spring", 1, 1, 20000),
        FlowRevenue("checkout", 2, None, "", 1, 1, 20000),
        FlowRevenue("win_back", None, None, "", 1, 1, 10000),
    ]
    # The same orders delivered again (a replay, out of order) change nothing.
    place(store, "cem-2", "cem@example.jp", 32000, "JPY", at(2026, 3, 15), "JP")
    place(
        store, "ann-2", "ann@example.de", 20000, "EUR", at(2026, 3, 10), "DE", refunded_minor=5000
    )
    assert revenue_by_flow(store, Q1) == found
    assert OrderRecord.objects.filter(order_id__in=["cem-2", "ann-2"]).count() == 2


def test_flows_follow_the_slice_and_the_period(store):
    _touches(store)
    jp = Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO, country="JP")
    assert [(f.flow, f.revenue_minor) for f in revenue_by_flow(store, jp)] == [
        ("campaign", 20000),
        ("win_back", 10000),
    ]
    february = Slice.of_days(date(2026, 2, 1), date(2026, 3, 1), TOKYO)
    assert [(f.flow, f.orders) for f in revenue_by_flow(store, february)] == [("win_back", 1)]
    # Nothing sent: nothing credited, never a guess.
    assert revenue_by_flow(store, Slice.of_days(date(2026, 4, 1), date(2026, 5, 1), TOKYO)) == []


def test_rfm_grid_counts_each_scored_customer_in_their_cell_and_group(store):
    recompute(store, NOW)
    scores = CustomerScores.objects.filter(tenant=store)
    # eve's only order was cancelled: a prospect, in her group but in no cell.
    assert scores.count() == 7 and scores.get(recency=None).rfm_group == "prospects"
    grid = rfm_grid(store, Q1)
    assert len(grid.cells) == 25
    assert [(c.recency, c.fm) for c in grid.cells[:6]] == [
        (5, 1),
        (5, 2),
        (5, 3),
        (5, 4),
        (5, 5),
        (4, 1),
    ]
    assert all(c.group == GRID[c.recency][c.fm - 1] for c in grid.cells)
    expected = Counter(
        (s.recency, (s.frequency + s.monetary + 1) // 2) for s in scores if s.recency is not None
    )
    assert {(c.recency, c.fm): c.customers for c in grid.cells if c.customers} == dict(expected)
    assert sum(c.customers for c in grid.cells) == 6
    assert grid.groups == dict(Counter(s.rfm_group for s in scores))
    assert grid.groups["prospects"] == 1 and sum(grid.groups.values()) == 7
    # Germany's buyers only: ann and fay (eve never bought).
    de = rfm_grid(store, Slice.of_days(date(2026, 1, 1), date(2026, 4, 1), TOKYO, country="DE"))
    assert sum(c.customers for c in de.cells) == 2
    assert sum(de.groups.values()) == 2 and "prospects" not in de.groups

"""The stage chart from the stored stage history, on the hand-built store (store.py), run the
way a store runs: orders arrive over time and the recompute scores everyone at each month's
end. Where the history is complete, the chart shows the stages the CRM stored then."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_crm_plugin.kpis.queries import Report, kpis
from saleor_crm_plugin.kpis.types import Slice
from saleor_crm_plugin.models import LifecycleSettings
from saleor_crm_plugin.segments.services import recompute_store

from . import store as hand_built
from .store import NOW, TOKYO

pytestmark = pytest.mark.django_db

# Month ends in Tokyo (midnight, 15:00 UTC the day before): when the store's recompute ran.
MONTH_ENDS = [datetime(2026, m, d, 15, tzinfo=UTC) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30))]
YEAR = Slice.of_days(date(2026, 1, 1), date(2026, 7, 1), TOKYO)
# Days mode: at risk after 20 days, dormant after 40, lost after 60 (as test_kpis.py's churn).
AS_RECONSTRUCTED = [
    (date(2026, 1, 1), {"new": 1, "at_risk": 1, "dormant": 1}),
    (date(2026, 2, 1), {"new": 1, "dormant": 2, "lost": 1}),
    (date(2026, 3, 1), {"active": 2, "at_risk": 2, "lost": 1}),
    (date(2026, 4, 1), {"active": 1, "at_risk": 2, "dormant": 2, "lost": 1}),
    (date(2026, 5, 1), {"active": 1, "at_risk": 1, "dormant": 1, "lost": 3}),
]


@pytest.fixture
def lived(tenant, monkeypatch):
    """The store's orders, placed in the order they happened, with a recompute at each month's
    end (the first starts the history) and one now."""
    orders: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(hand_built, "place", lambda *a, **k: orders.append((a, k)))
    hand_built.build_store(tenant)  # loads the rates; the orders are kept for below
    monkeypatch.undo()
    LifecycleSettings.objects.create(
        tenant=tenant, mode="days", at_risk_after=20, dormant_after=40, lost_after=60
    )
    orders.sort(key=lambda call: call[0][5])
    for moment in [*MONTH_ENDS, NOW]:
        while orders and orders[0][0][5] < moment:
            args, kwargs = orders.pop(0)
            hand_built.place(*args, **kwargs)
        recompute_store(tenant, moment)
    assert not orders
    return tenant


def test_the_chart_reads_the_stored_history_and_matches_the_orders(lived):
    # The same stages as rebuilt from the orders (test_kpis.py), since the recompute stored
    # them at exactly those moments with the same thresholds.
    year = kpis(lived, YEAR, NOW)
    assert [(p.starts, p.stages) for p in year.stage_series] == AS_RECONSTRUCTED
    assert year.stage_series[-1].stages == year.stages
    jp = kpis(lived, Slice.of_days(date(2026, 3, 1), date(2026, 6, 1), TOKYO, country="JP"), NOW)
    assert [p.stages for p in jp.stage_series] == [{"active": 1}, {"dormant": 1}, {"lost": 1}]


def test_the_chart_alone_does_not_sort_the_stores_orders(lived):
    report = Report(lived, YEAR, NOW)
    with CaptureQueriesContext(connection) as queries:
        chart = report.stage_series
    assert [(p.starts, p.stages) for p in chart] == AS_RECONSTRUCTED
    # Where the history starts, and the chart from it; not the pass rebuilding it from the
    # orders (the slice's customer filter names crm_order, unused without a slice).
    statements = [q["sql"] for q in queries.captured_queries if "crm_" in q["sql"]]
    assert len(statements) == 2 and "crm_stage_history_start" in statements[0]
    assert "FROM crm_stage_change c" in statements[1]
    assert not [s for s in statements if "lead(o.created_at)" in s]


def test_stages_stay_as_labelled_then_and_older_moments_are_rebuilt(lived):
    # The store raises its thresholds now. The history keeps what the CRM said at the time;
    # before the history starts (Dec 31) the stages are rebuilt with today's thresholds.
    LifecycleSettings.objects.filter(tenant=lived).update(
        at_risk_after=200, dormant_after=400, lost_after=600
    )
    since_december = Slice.of_days(date(2025, 12, 1), date(2026, 7, 1), TOKYO)
    chart = kpis(lived, since_december, NOW).stage_series
    # Dec 31 15:00 UTC: fay's one order is 21 days old, "new" under 200 days (gus buys an hour
    # later); an at-risk fay under the old 20 days.
    assert [(p.starts, p.stages) for p in chart] == [
        (date(2025, 12, 1), {"new": 1}),
        *AS_RECONSTRUCTED,
    ]

"""Service cases: an open case holds the customer out of marketing e-mail until it is resolved,
and the statistics count open cases and the median time to resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_crm_plugin.messaging import services as messaging
from saleor_crm_plugin.messaging.models import Message, Purpose
from saleor_crm_plugin.models import TimelineEntry
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent
from saleor_crm_plugin.service.cases import CaseInput, open_case, update_case
from saleor_crm_plugin.service.errors import NotFound, ServiceError
from saleor_crm_plugin.service.models import ServiceCase
from saleor_crm_plugin.service.queries import case_stats
from saleor_crm_plugin.service.types import Actor
from tests.messaging.conftest import cart, make_profile

pytestmark = pytest.mark.django_db

# A Wednesday, 12:00 in Berlin: inside the send window.
NOON_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
MIA = Actor(kind="staff", user_id="VXNlcjoyMQ==", email="mia@nordwind.example")


def remind(profile, key: str, now: datetime) -> Message:
    return messaging.enqueue(
        profile,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key=key,
        data=cart(),
        store_channel="default-channel",
        now=now,
    )


def skipped(profile) -> list[str]:
    rows = TimelineEntry.objects.filter(profile=profile, kind="crm.message.skipped")
    return [data["reason"] for data in rows.order_by("id").values_list("data", flat=True)]


def test_an_open_case_holds_marketing_back_until_it_is_resolved(tenant, smtp):
    anna = make_profile(tenant)
    grant_consent(anna, "marketing_email", source=Source.CHECKOUT, wording_version="v1")
    queued_before = remind(anna, "checkout-1:step-1", NOON_BERLIN)
    case = open_case(
        anna, CaseInput(type="complaint", subject="Teapot arrived broken"), MIA, NOON_BERLIN
    )

    # Queued before the case: held back at sending. Queued while it is open: skipped at once.
    assert messaging.send_due(NOON_BERLIN) == 0
    assert remind(anna, "checkout-2:step-1", NOON_BERLIN).reason == "open_case"
    queued_before.refresh_from_db()
    assert (queued_before.status, queued_before.reason) == ("skipped", "open_case")
    assert skipped(anna) == ["open_case", "open_case"]
    assert smtp.messages == []
    # A transactional message (an order, a receipt) is not marketing: it still goes.
    welcome = messaging.enqueue(
        anna, "welcome", purpose=Purpose.TRANSACTIONAL, dedupe_key="welcome", now=NOON_BERLIN
    )
    assert welcome.status == "queued"

    update_case(tenant.pk, case.pk, MIA, NOON_BERLIN + timedelta(hours=3), status="waiting")
    assert remind(anna, "checkout-3:step-1", NOON_BERLIN).reason == "open_case"
    update_case(tenant.pk, case.pk, MIA, NOON_BERLIN + timedelta(hours=5), status="resolved")
    later = NOON_BERLIN + timedelta(hours=6)
    assert remind(anna, "checkout-4:step-1", later).status == "queued"
    assert messaging.send_due(later + timedelta(days=2)) == 2  # the reminder and the welcome
    assert len(smtp.to("anna.mueller@example.de")) == 2


def test_updates_and_resolution_are_on_the_timeline(tenant):
    anna = make_profile(tenant)
    case = open_case(anna, CaseInput(type="return", subject="Return a cup"), MIA, NOON_BERLIN)
    later = NOON_BERLIN + timedelta(hours=2)
    update_case(tenant.pk, case.pk, MIA, later, assignee=("VXNlcjoyMg==", "li@nordwind.example"))
    update_case(tenant.pk, case.pk, MIA, later, assignee=("VXNlcjoyMg==", "li@nordwind.example"))
    update_case(tenant.pk, case.pk, MIA, later + timedelta(hours=1), status="closed")
    kinds = TimelineEntry.objects.filter(profile=anna).order_by("occurred_at", "id")
    assert [(e.kind, e.data.get("changed", "")) for e in kinds] == [
        ("crm.case.opened", ""),
        ("crm.case.updated", "assignee_email,assignee_user_id"),  # the repeat changed nothing
        ("crm.case.updated", "status"),
        ("crm.case.resolved", ""),
    ]
    case.refresh_from_db()
    assert case.resolved_at == later + timedelta(hours=1)
    assert case.due_at == NOON_BERLIN + timedelta(hours=48)
    with pytest.raises(ServiceError, match="status is one of"):
        update_case(tenant.pk, case.pk, MIA, later, status="done")
    with pytest.raises(NotFound):
        update_case(tenant.pk + 1, case.pk, MIA, later, status="open")
    assert ServiceCase.objects.get().status == "closed"


def test_stats_count_open_cases_and_the_median_time_to_resolve(tenant):
    people = [make_profile(tenant, email=f"c{i}@example.de", user_id=f"U{i}") for i in range(4)]
    start = datetime(2026, 6, 1, tzinfo=UTC)
    types = ["return", "return", "question", "complaint"]
    cases = [
        open_case(p, CaseInput(type=t, subject="Help"), MIA, start + timedelta(hours=i))
        for i, (p, t) in enumerate(zip(people, types, strict=True))
    ]
    for case, hours in zip(cases[:3], (2, 10, 4), strict=True):
        update_case(
            tenant.pk, case.pk, MIA, case.opened_at + timedelta(hours=hours), status="resolved"
        )
    # Reopened and resolved again: measured to the last resolution (30 hours).
    update_case(tenant.pk, cases[1].pk, MIA, start + timedelta(hours=20), status="open")
    update_case(tenant.pk, cases[1].pk, MIA, start + timedelta(hours=31), status="resolved")

    now = start + timedelta(days=5)  # the open complaint is past its 48 hours
    stats = case_stats(tenant, start, start + timedelta(days=7), now)
    assert (stats.open_now, stats.overdue_now, stats.opened, stats.resolved) == (1, 1, 4, 3)
    assert stats.median_hours_to_resolve == 4.0  # of 2, 4 and 30 hours
    assert stats.by_type == {"complaint": 1, "question": 1, "return": 2}
    before = case_stats(tenant, start - timedelta(days=7), start, now)
    assert (before.opened, before.resolved, before.median_hours_to_resolve) == (0, 0, None)

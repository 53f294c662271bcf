"""Daily jobs run exactly once per local business day, across DST changes in several zones.

A frozen clock steps through the weeks around each DST change of Europe/Berlin,
America/New_York and Australia/Sydney, asking the beat schedule of every daily job in
``tasks.PERIODIC`` whether it is due, as Celery beat does. Then the birthday job, which is the
one that decides "today" by the calendar, runs at exactly those moments: every customer gets
the bonus once, on their local birthday.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery import Celery
from django.utils import timezone

from saleor_crm_plugin.tasks import PERIODIC

DAILY_TASKS = {
    "saleor_crm.loyalty.apply_tiers",
    "saleor_crm.loyalty.expire_points",
    "saleor_crm.loyalty.birthdays",
    "saleor_crm.loyalty.expiry_reminders",
    "saleor_crm.segments.recompute",
    "saleor_crm.privacy.retention",
}
# (zone, a local date whose night has a DST change); the walk covers three days either side.
CHANGES = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Sydney", date(2026, 4, 5)),
    ("Australia/Sydney", date(2026, 10, 4)),
]
TICK = timedelta(minutes=10)  # beat wakes at least this often


def beat_runs(entry: dict, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The moments Celery beat would start this entry between start and end (UTC)."""
    clock = [start]
    schedule = copy.copy(entry["schedule"])
    schedule.nowfun = lambda: clock[0]
    schedule.app = Celery(set_as_current=False)  # UTC, as in Saleor's Celery
    last_run = start
    runs = []
    while clock[0] < end:
        due, _ = schedule.is_due(last_run)
        if due:
            runs.append(clock[0])
            last_run = clock[0]
        clock[0] += TICK
    return runs


@pytest.mark.parametrize(("zone", "change"), CHANGES, ids=[f"{z}-{d}" for z, d in CHANGES])
def test_every_daily_job_runs_once_per_local_day_across_dst(settings, zone, change):
    settings.CRM_STORE_TIME_ZONE = zone
    local = ZoneInfo(zone)
    start = datetime.combine(change - timedelta(days=3), datetime.min.time(), local)
    end = datetime.combine(change + timedelta(days=4), datetime.min.time(), local)
    daily = {name: e for name, e in PERIODIC.items() if e["task"] in DAILY_TASKS}
    assert {e["task"] for e in daily.values()} == DAILY_TASKS
    expected = [change + timedelta(days=n) for n in range(-3, 4)]
    for name, entry in daily.items():
        runs = beat_runs(entry, zone, start.astimezone(UTC), end.astimezone(UTC))
        days = Counter(run.astimezone(local).date() for run in runs)
        assert sorted(days) == expected, name
        assert set(days.values()) == {1}, (name, days)
        assert {run.astimezone(local).hour for run in runs} == {4}, name


@pytest.mark.django_db
def test_birthday_bonuses_land_once_on_the_local_birthday_across_dst(settings, monkeypatch, tenant):
    """Sydney's 04:00 is the previous day in UTC: a UTC "today" would grant a day early."""
    from saleor_crm_plugin.loyalty.ledger import grant_birthday_bonuses
    from saleor_crm_plugin.loyalty.models import Birthday
    from saleor_crm_plugin.models import PointsEntry, Profile

    settings.CRM_LOYALTY_BIRTHDAY_BONUS = 50
    real_now = timezone.now
    for zone, change in CHANGES:
        settings.CRM_STORE_TIME_ZONE = zone
        local = ZoneInfo(zone)
        Birthday.objects.all().delete()
        PointsEntry.objects.filter(source="birthday").delete()
        days = [change + timedelta(days=n) for n in range(-3, 4)]
        for n, day in enumerate(days):
            profile, _ = Profile.objects.get_or_create(tenant=tenant, email=f"born-{n}@example.com")
            Birthday.objects.create(
                tenant=tenant, profile=profile, month=day.month, day=day.day, set_at=real_now()
            )
        start = datetime.combine(days[0], datetime.min.time(), local).astimezone(UTC)
        end = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), local)
        runs = beat_runs(PERIODIC["crm-loyalty-birthdays"], zone, start, end.astimezone(UTC))
        granted_on: dict[str, date] = {}
        for run in runs:
            monkeypatch.setattr(timezone, "now", lambda run=run: run)
            seen = set(PointsEntry.objects.filter(source="birthday").values_list("pk", flat=True))
            grant_birthday_bonuses(tenant)
            new = PointsEntry.objects.filter(source="birthday").exclude(pk__in=seen)
            for email in new.values_list("profile__email", flat=True):
                assert email not in granted_on, (zone, email)
                granted_on[email] = run.astimezone(local).date()
            monkeypatch.setattr(timezone, "now", real_now)
        assert granted_on == {f"born-{n}@example.com": day for n, day in enumerate(days)}, zone

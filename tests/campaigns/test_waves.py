"""A three-step warm-up over a week, released in waves of two an hour, sent through a real
SMTP server on a frozen clock (every call is given its moment)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_crm_plugin.campaigns import queries, services
from saleor_crm_plugin.campaigns.models import Campaign, CampaignMessage, CampaignRecipient
from saleor_crm_plugin.campaigns.release import release_due
from saleor_crm_plugin.campaigns.types import StepInput
from saleor_crm_plugin.messaging import services as outbox
from saleor_crm_plugin.models import Message, TimelineEntry
from tests.campaigns.conftest import (
    HOUR,
    LAUNCH,
    STEP_TIMES,
    customers,
    segment,
    versions,
    warm_up,
)

pytestmark = pytest.mark.django_db


def subjects(smtp, email: str) -> list[str]:
    return [str(m["Subject"]).strip() for m in smtp.to(email)]


def tick(now) -> tuple[int, int]:
    """One minute of the workers: release due waves, then send what is due."""
    return release_due(now), outbox.send_due(now)


def test_a_three_step_warm_up_goes_out_in_waves_in_each_language_once(tenant, smtp):
    people = customers(tenant)
    campaign = warm_up(tenant, segment(tenant))
    campaign = services.launch_campaign(tenant, campaign.pk, LAUNCH)
    assert (campaign.status, campaign.audience_count) == ("scheduled", 5)
    # The snapshot, in profile id order, two per wave; the outsider is not in it.
    waves = dict(CampaignRecipient.objects.values_list("profile__email", "wave"))
    assert waves == {
        "anna@example.de": 0, "karl@example.at": 0, "otto@example.de": 1,
        "marie@example.fr": 1, "yuki@example.jp": 2,
    }  # fmt: skip

    first = STEP_TIMES[0]
    assert tick(first - HOUR / 60) == (0, 0)
    assert tick(first) == (1, 2)  # wave 0: Anna and Karl
    assert subjects(smtp, "anna@example.de") == ["Sommerfest, Teil 1"]
    assert subjects(smtp, "karl@example.at") == ["Griaß di, Teil 1"]  # de-AT before de
    assert smtp.to("marie@example.fr") == [] and smtp.to("yuki@example.jp") == []
    assert Campaign.objects.get().status == "sending"

    assert tick(first + 59 * HOUR / 60) == (0, 0)
    assert tick(first + HOUR) == (1, 1)  # wave 1: Otto (no consent) and Marie
    assert subjects(smtp, "marie@example.fr") == ["Summer party, part 1"]  # no French: English
    assert smtp.to("otto@example.de") == []
    skipped = TimelineEntry.objects.get(profile=people["otto"], kind="crm.message.skipped")
    assert (skipped.data["reason"], skipped.data["campaign"]) == ("no_consent", campaign.pk)

    assert tick(first + 2 * HOUR) == (1, 1)  # wave 2: Yuki, in Japanese
    [mail] = smtp.to("yuki@example.jp")
    assert str(mail["Subject"]).strip() == "夏祭り 1"
    assert "夏祭りのお知らせ 1" in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = mail.get_body(("html",)).get_content()
    assert '<html lang="ja"' in html

    # The workers running again (or twice) change nothing: nobody gets a step twice.
    assert tick(first + 3 * HOUR) == (0, 0)
    assert Message.objects.count() == 5

    # Step 2, three days later, the same waves at the same pace.
    second = STEP_TIMES[1]
    assert tick(second) == (1, 2)
    assert tick(second + HOUR) == (1, 1)
    assert tick(second + 2 * HOUR) == (1, 1)
    assert subjects(smtp, "anna@example.de") == ["Sommerfest, Teil 1", "Sommerfest, Teil 2"]
    plain = smtp.to("anna@example.de")[1].get_body(("plain",)).get_content()
    assert "Hallo Anna," in plain and "Unser Sommerfest naht: Teil 2." in plain

    # Step 3: the first wave is released, then staff cancel before it is sent.
    third = STEP_TIMES[2]
    assert release_due(third) == 1
    services.cancel_campaign(tenant, campaign.pk, third + HOUR / 12)
    assert tick(third + HOUR / 12) == (0, 0)
    assert tick(third + 3 * HOUR) == (0, 0)  # later waves never go out
    assert tick(third + 7 * 24 * HOUR) == (0, 0)
    stopped = Message.objects.filter(reason="campaign_cancelled")
    assert sorted(stopped.values_list("profile__email", flat=True)) == [
        "anna@example.de",
        "karl@example.at",
    ]
    assert (
        TimelineEntry.objects.filter(
            kind="crm.message.skipped", data__reason="campaign_cancelled"
        ).count()
        == 2
    )

    for email in ("anna@example.de", "karl@example.at", "marie@example.fr", "yuki@example.jp"):
        assert len(smtp.to(email)) == 2, email
    assert smtp.to("otto@example.de") == [] and smtp.to("sam@example.com") == []
    assert len(smtp.messages) == 8
    # Each recipient has at most one message per step.
    assert CampaignMessage.objects.count() == 12

    done = Campaign.objects.get()
    assert (done.status, done.cancelled_at) == ("cancelled", third + HOUR / 12)
    total = queries.counts(done)
    assert (total[0].released, total[0].sent, total[0].queued) == (12, 8, 0)
    assert total[0].skipped == {"no_consent": 2, "campaign_cancelled": 2}
    assert (total[3].released, total[3].sent) == (2, 0)


def test_a_message_due_at_night_waits_queued_for_the_morning(tenant, smtp):
    customers(tenant)
    # One step at 14:00 UTC: 16:00 in Berlin, 23:00 in Tokyo.
    at = datetime(2026, 6, 8, 14, 0, tzinfo=UTC)
    campaign = warm_up(tenant, segment(tenant), wave_size=None, steps=(StepInput(at, versions(1)),))
    services.launch_campaign(tenant, campaign.pk, LAUNCH)
    assert tick(at) == (1, 3)  # everyone at once; Yuki waits
    yuki = Message.objects.get(profile__email="yuki@example.jp")
    morning = datetime(2026, 6, 9, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert (yuki.status, yuki.reason, yuki.due_at) == ("queued", "send_window", morning)
    assert Campaign.objects.get().status == "done"
    assert outbox.send_due(morning) == 1
    assert [str(m["Subject"]).strip() for m in smtp.to("yuki@example.jp")] == ["夏祭り 1"]


def test_late_workers_resume_at_the_campaigns_pace_one_statement_per_wave(tenant, smtp):
    customers(tenant)
    campaign = warm_up(tenant, segment(tenant), steps=(StepInput(STEP_TIMES[0], versions(1)),))
    with CaptureQueriesContext(connection) as launched:
        services.launch_campaign(tenant, campaign.pk, LAUNCH)
    assert inserts(launched, "crm_campaign_recipient") == 1

    late = STEP_TIMES[0] + 5 * HOUR  # the workers were down; all three waves are overdue
    with CaptureQueriesContext(connection) as released:
        assert release_due(late) == 1
    assert inserts(released, "crm_message") == 1
    assert Message.objects.count() == 2
    assert release_due(late + 59 * HOUR / 60) == 0  # still at most one wave an hour
    assert release_due(late + HOUR) == 1
    assert release_due(late + 2 * HOUR) == 1
    assert Message.objects.count() == 5 and Campaign.objects.get().status == "done"


def inserts(captured: CaptureQueriesContext, table: str) -> int:
    return sum(1 for q in captured.captured_queries if f"INSERT INTO {table} " in q["sql"])

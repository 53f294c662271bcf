"""Retention limits: old raw bodies, behaviour and message logs go; recent ones and anything
still to be applied or sent stay. The clock is an argument, fixed here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_crm_plugin.inbox.services import body_hash
from saleor_crm_plugin.messaging.models import Message
from saleor_crm_plugin.models import Delivery, TimelineEntry, TrackedEvent
from saleor_crm_plugin.privacy.retention import RetentionResult, enforce_retention
from saleor_crm_plugin.recovery.models import RecoveryFlow, RecoveryStep
from tests.messaging.conftest import make_profile

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def delivery(tenant, name: str, state: str, days_old: float) -> Delivery:
    body = f'{{"user": {{"email": "{name}@example.de"}}}}'.encode()
    row = Delivery.objects.create(
        tenant=tenant, event="customer_updated", body=body, body_hash=body_hash(body), state=state
    )
    Delivery.objects.filter(pk=row.pk).update(received_at=NOW - timedelta(days=days_old))
    return row


def tracked(tenant, profile, client_id: str, days_old: float) -> TrackedEvent:
    event = TrackedEvent.objects.create(
        tenant=tenant, visitor_id="visitor-1", client_event_id=client_id, profile=profile,
        kind="searched", query="teekanne", occurred_at=NOW - timedelta(days=days_old),
    )  # fmt: skip
    TimelineEntry.objects.create(
        tenant=tenant, profile=profile, kind="crm.behaviour.searched",
        occurred_at=event.occurred_at, data={"query": "teekanne"}, dedupe_key=f"track:{event.pk}",
    )  # fmt: skip
    return event


def message(tenant, profile, key: str, status: str, days_old: float) -> Message:
    at = NOW - timedelta(days=days_old)
    return Message.objects.create(
        tenant=tenant, profile=profile, purpose="marketing", kind="abandoned_checkout",
        locale="de", context={"first_name": "Anna"}, dedupe_key=key, status=status,
        created_at=at, due_at=at,
    )  # fmt: skip


def test_each_limit_removes_only_what_is_older_and_finished(tenant, settings):
    settings.CRM_RETENTION_INBOX_DAYS = 30
    settings.CRM_RETENTION_BEHAVIOUR_DAYS = 90
    settings.CRM_RETENTION_MESSAGE_DAYS = 365
    settings.CRM_RETENTION_BATCH_SIZE = 2  # several batches
    anna = make_profile(tenant)
    old = [delivery(tenant, f"old{i}", "processed", 31) for i in range(3)]
    ignored = delivery(tenant, "ignored", "ignored", 40)
    recent = delivery(tenant, "recent", "processed", 29)
    waiting = [delivery(tenant, "pending", "pending", 60), delivery(tenant, "failed", "failed", 60)]
    old_events = [tracked(tenant, anna, f"old-event-{i}", 91) for i in range(3)]
    new_event = tracked(tenant, anna, "new-event-1", 89)
    sent = message(tenant, anna, "m-sent", "sent", 366)
    skipped = message(tenant, anna, "m-skipped", "skipped", 400)
    queued = message(tenant, anna, "m-queued", "queued", 400)  # still to go out
    fresh = message(tenant, anna, "m-fresh", "sent", 300)
    flow = RecoveryFlow.objects.create(
        tenant=tenant, profile=anna, checkout_id="c1", currency="EUR",
        checkout_updated_at=NOW, delays_hours=[1], status="completed", started_at=NOW,
    )  # fmt: skip
    step = RecoveryStep.objects.create(
        flow=flow, step=0, due_at=NOW, enqueued_at=NOW, sent_at=NOW, outcome="sent", message=sent
    )

    result = enforce_retention(NOW)

    assert result == RetentionResult(
        inbox_bodies_emptied=4, behaviour_deleted=3, messages_deleted=2
    )
    emptied = {d.pk for d in Delivery.objects.filter(body=b"")}
    assert emptied == {d.pk for d in [*old, ignored]}
    assert all(d.body_hash for d in Delivery.objects.filter(pk__in=emptied))  # replays: no-ops
    assert not Delivery.objects.filter(pk__in=emptied).exclude(headers={}).exists()
    assert {d.state for d in Delivery.objects.filter(pk__in=[w.pk for w in waiting])} == {
        "pending", "failed"
    }  # fmt: skip
    assert bytes(Delivery.objects.get(pk=recent.pk).body) != b""
    assert list(TrackedEvent.objects.values_list("pk", flat=True)) == [new_event.pk]
    assert list(TimelineEntry.objects.values_list("dedupe_key", flat=True)) == [
        f"track:{new_event.pk}"
    ]
    assert set(Message.objects.values_list("pk", flat=True)) == {queued.pk, fresh.pk}
    step.refresh_from_db()
    assert (step.message_id, step.sent_at, step.outcome) == (None, NOW, "sent")
    assert old_events and skipped
    assert enforce_retention(NOW) == RetentionResult(0, 0, 0)  # a second run finds nothing


def test_zero_keeps_everything(tenant, settings):
    settings.CRM_RETENTION_INBOX_DAYS = 0
    settings.CRM_RETENTION_BEHAVIOUR_DAYS = 0
    settings.CRM_RETENTION_MESSAGE_DAYS = 0
    anna = make_profile(tenant)
    delivery(tenant, "ancient", "processed", 4000)
    tracked(tenant, anna, "ancient-event", 4000)
    message(tenant, anna, "m-ancient", "sent", 4000)
    assert enforce_retention(NOW) == RetentionResult(0, 0, 0)
    assert not Delivery.objects.filter(body=b"").exists()


def test_the_nightly_task_applies_the_limits(tenant, settings):
    from saleor_crm_plugin.privacy.tasks import apply_retention

    settings.CRM_RETENTION_INBOX_DAYS = 1
    delivery(tenant, "yesterday", "processed", (datetime.now(UTC) - NOW).days + 2)
    assert apply_retention.apply().get()["inbox_bodies_emptied"] == 1

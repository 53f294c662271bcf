"""Timeline entries for messages: every one queued, deferred, sent, skipped or failed, with why."""

from __future__ import annotations

from datetime import datetime

from ..profiles.models import TimelineEntry
from .models import Message


def message_event(message: Message, what: str, at: datetime, step: str = "") -> None:
    """``crm.message.<what>`` (queued, deferred, sent, skipped, failed). ``step`` tells apart
    repeated entries of one kind (each deferral), so a replay adds nothing."""
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                tenant_id=message.tenant_id,
                profile_id=message.profile_id,
                kind=f"crm.message.{what}",
                occurred_at=at,
                subject_id=str(message.pk),
                data={
                    "kind": message.kind,
                    "purpose": message.purpose,
                    "channel": message.channel,
                    "locale": message.locale,
                    "due_at": message.due_at.isoformat(),
                    "reason": message.reason,
                },
                dedupe_key=f"message.{what}:{message.pk}{step}",
            )
        ],
        ignore_conflicts=True,
    )

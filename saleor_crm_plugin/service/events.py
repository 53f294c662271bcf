"""Timeline entries of notes, tags and cases: who did what, when (staff actions included)."""

from __future__ import annotations

from datetime import datetime

from ..profiles.models import TimelineEntry
from .models import Note, ServiceCase
from .types import Actor


def _entry(
    case_or_profile: tuple[int, int],
    kind: str,
    at: datetime,
    subject_id: str,
    key: str,
    actor: Actor,
    **data: str,
) -> None:
    tenant_id, profile_id = case_or_profile
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                tenant_id=tenant_id,
                profile_id=profile_id,
                kind=kind,
                occurred_at=at,
                subject_id=subject_id,
                data={"by": actor.label, "by_kind": actor.kind, **data},
                dedupe_key=key,
            )
        ],
        ignore_conflicts=True,
    )


def note_added(note: Note, actor: Actor) -> None:
    """``crm.note.added``; the text stays in the note (deleting it removes the text)."""
    _entry(
        (note.tenant_id, note.profile_id),
        "crm.note.added",
        note.created_at,
        str(note.pk),
        f"note.added:{note.pk}",
        actor,
    )


def note_deleted(note: Note, actor: Actor, at: datetime) -> None:
    _entry(
        (note.tenant_id, note.profile_id),
        "crm.note.deleted",
        at,
        str(note.pk),
        f"note.deleted:{note.pk}",
        actor,
    )


def tags_changed(
    tenant_id: int,
    profile_id: int,
    added: list[str],
    removed: list[str],
    actor: Actor,
    at: datetime,
) -> None:
    """``crm.tag.added`` / ``crm.tag.removed``, one entry per tag and moment."""
    for what, tags in (("added", added), ("removed", removed)):
        for tag in tags:
            _entry(
                (tenant_id, profile_id),
                f"crm.tag.{what}",
                at,
                tag,
                f"tag.{what}:{profile_id}:{tag}:{at.isoformat()}",
                actor,
                tag=tag,
            )


def case_event(case: ServiceCase, what: str, actor: Actor, at: datetime, **data: str) -> None:
    """``crm.case.opened`` / ``updated`` / ``resolved``; ``updated`` names the changed fields."""
    _entry(
        (case.tenant_id, case.profile_id),
        f"crm.case.{what}",
        at,
        str(case.pk),
        f"case.{what}:{case.pk}:{at.isoformat()}",
        actor,
        type=case.type,
        status=case.status,
        subject=case.subject,
        order_id=case.order_id,
        **data,
    )

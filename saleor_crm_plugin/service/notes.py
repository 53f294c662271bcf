"""Staff notes and tags on a customer: add, delete, set; each with its timeline entry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from ..profiles.models import Profile
from . import events
from .errors import NotAllowed, NotFound, ServiceError
from .models import Note, Tag
from .types import Actor

MAX_NOTE_CHARS = 5000
MAX_TAG_CHARS = 64
MAX_TAGS = 50


def add_note(profile: Profile, body: str, actor: Actor, now: datetime) -> Note:
    """Store a note with its author and time; atomic with its ``crm.note.added`` entry."""
    text = body.strip()
    if not text:
        raise ServiceError("Write something in the note.", field="body")
    if len(text) > MAX_NOTE_CHARS:
        raise ServiceError(f"A note has at most {MAX_NOTE_CHARS} characters.", field="body")
    with transaction.atomic():
        note = Note.objects.create(
            tenant_id=profile.tenant_id,
            profile=profile,
            body=text,
            author_user_id=actor.user_id,
            author_email=actor.email,
            created_at=now,
        )
        events.note_added(note, actor)
    return note


def delete_note(tenant_id: int, note_id: int, actor: Actor, now: datetime) -> Note:
    """Delete a note (its text is gone; the timeline keeps that it existed and who deleted it).

    Only its author may (the same Saleor user id), or staff holding MANAGE_STAFF: a
    colleague's note is not another's to withdraw. Apps carry no user id, so a note an app
    wrote may be deleted by an app.
    """
    with transaction.atomic():
        note = Note.objects.select_for_update().filter(tenant_id=tenant_id, pk=note_id).first()
        if note is None:
            raise NotFound("No such note.", field="id")
        if note.author_user_id:
            own = actor.kind == "staff" and note.author_user_id == actor.user_id
        else:
            own = actor.kind == "app"
        if not own and not actor.can_manage_staff:
            raise NotAllowed(
                "Only the note's author or staff who manage staff may delete it.", field="id"
            )
        events.note_deleted(note, actor, now)
        deleted_pk = note.pk
        note.delete()
        note.pk = deleted_pk
    return note


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Tags trimmed and lower-cased, without repeats, in the order given; clear errors else."""
    found: list[str] = []
    for raw in tags:
        tag = " ".join(str(raw).split()).lower()
        if not tag:
            raise ServiceError("A tag cannot be empty.", field="tags")
        if len(tag) > MAX_TAG_CHARS:
            raise ServiceError(f"A tag has at most {MAX_TAG_CHARS} characters.", field="tags")
        if tag not in found:
            found.append(tag)
    if len(found) > MAX_TAGS:
        raise ServiceError(f"At most {MAX_TAGS} tags on one customer.", field="tags")
    return found


def change_tags(
    profile: Profile,
    actor: Actor,
    now: datetime,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    replace: Iterable[str] | None = None,
) -> list[str]:
    """Add and remove tags (or replace them all); returns the customer's tags afterwards.

    Idempotent: adding a tag already there or removing one that is not changes nothing and
    writes no timeline entry. Atomic, one ``crm.tag.added``/``removed`` entry per change.
    """
    adding = normalize_tags(add)
    removing = normalize_tags(remove)
    wanted = normalize_tags(replace) if replace is not None else None
    with transaction.atomic():
        Profile.objects.select_for_update().filter(pk=profile.pk).first()
        have = set(Tag.objects.filter(profile=profile).values_list("tag", flat=True))
        if wanted is not None:
            adding, removing = wanted, sorted(have - set(wanted))
        new = [t for t in adding if t not in have and t not in removing]
        gone = [t for t in removing if t in have]
        if len(have) + len(new) - len(gone) > MAX_TAGS:
            raise ServiceError(f"At most {MAX_TAGS} tags on one customer.", field="tags")
        Tag.objects.filter(profile=profile, tag__in=gone).delete()
        Tag.objects.bulk_create(
            [
                Tag(
                    tenant_id=profile.tenant_id,
                    profile=profile,
                    tag=t,
                    added_by_user_id=actor.user_id,
                    added_by_email=actor.email,
                    added_at=now,
                )
                for t in new
            ]
        )
        events.tags_changed(profile.tenant_id, profile.pk, new, gone, actor, now)
    return sorted((have | set(new)) - set(gone))

"""Service cases: opened by staff or by the customer, updated, resolved; on the timeline.

A case in ``open`` or ``waiting`` holds its customer out of marketing: the outbox asks
``has_open_case`` in its one place for skip reasons (``messaging/services.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from ..conf import crm_settings
from ..profiles.models import OrderRecord, Profile
from . import events
from .errors import NotFound, RateLimited, ServiceError
from .models import OPEN_STATUSES, CaseStatus, CaseType, ServiceCase
from .types import Actor

MAX_SUBJECT_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000
_UNSET: Any = object()


@dataclass(frozen=True)
class CaseInput:
    type: str
    subject: str
    description: str = ""
    order_id: str = ""
    due_at: datetime | None = None
    assignee_user_id: str = ""
    assignee_email: str = ""


def has_open_case(profile_id: int) -> bool:
    return ServiceCase.objects.filter(profile_id=profile_id, status__in=OPEN_STATUSES).exists()


def _check_type(value: str) -> str:
    if value not in CaseType.values:
        raise ServiceError(f"The type is one of {', '.join(CaseType.values)}.", field="type")
    return value


def _check_status(value: str) -> str:
    if value not in CaseStatus.values:
        raise ServiceError(f"The status is one of {', '.join(CaseStatus.values)}.", field="status")
    return value


def _check_text(subject: str, description: str) -> tuple[str, str]:
    subject = " ".join(subject.split())
    if not subject:
        raise ServiceError("Give the case a subject.", field="subject")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise ServiceError(
            f"A subject has at most {MAX_SUBJECT_CHARS} characters.", field="subject"
        )
    description = description.strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ServiceError(
            f"A description has at most {MAX_DESCRIPTION_CHARS} characters.", field="description"
        )
    return subject, description


def _check_order(profile: Profile, order_id: str) -> str:
    """A linked order must be one of this customer's (so nobody links a stranger's order)."""
    if (
        order_id
        and not OrderRecord.objects.filter(
            tenant_id=profile.tenant_id, order_id=order_id, profile_id=profile.pk
        ).exists()
    ):
        raise ServiceError("That order is not one of this customer's.", field="orderId")
    return order_id


def open_case(profile: Profile, data: CaseInput, actor: Actor, now: datetime) -> ServiceCase:
    """Open a case; due ``CRM_CASE_DUE_HOURS`` after opening unless a due time is given.

    A customer opening their own case is limited to ``CRM_CASE_CUSTOMER_DAILY_LIMIT`` in 24
    hours, counted under a lock on their profile so parallel requests cannot slip past it.
    Atomic with ``crm.case.opened`` on the timeline.
    """
    _check_type(data.type)
    subject, description = _check_text(data.subject, data.description)
    order_id = _check_order(profile, data.order_id)
    if data.due_at is not None and data.due_at.tzinfo is None:
        raise ServiceError("Give the due time with its time zone offset.", field="dueAt")
    due = data.due_at or now + timedelta(hours=crm_settings.CASE_DUE_HOURS)
    with transaction.atomic():
        Profile.objects.select_for_update().filter(pk=profile.pk).first()
        if actor.kind == "customer":
            recent = ServiceCase.objects.filter(
                profile=profile, opened_by="customer", opened_at__gt=now - timedelta(hours=24)
            ).count()
            if recent >= crm_settings.CASE_CUSTOMER_DAILY_LIMIT:
                raise RateLimited(
                    "You have opened several requests today; we will answer them first. "
                    "Please try again tomorrow."
                )
        case = ServiceCase.objects.create(
            tenant_id=profile.tenant_id,
            profile=profile,
            type=data.type,
            subject=subject,
            description=description,
            order_id=order_id,
            assignee_user_id=data.assignee_user_id,
            assignee_email=data.assignee_email,
            opened_by=actor.kind,
            opened_by_user_id=actor.user_id,
            opened_at=now,
            updated_at=now,
            due_at=due,
        )
        events.case_event(case, "opened", actor, now, due_at=due.isoformat())
    return case


def update_case(
    tenant_id: int,
    case_id: int,
    actor: Actor,
    now: datetime,
    *,
    status: str | None = None,
    type: str | None = None,
    subject: str | None = None,
    description: str | None = None,
    order_id: str | None = None,
    due_at: datetime | None = None,
    assignee: tuple[str, str] | None = None,
) -> ServiceCase:
    """Change a case's fields (those given). Moving to resolved or closed stamps
    ``resolved_at`` (and writes ``crm.case.resolved``); reopening clears it. Atomic; an update
    that changes nothing writes nothing."""
    with transaction.atomic():
        case = (
            ServiceCase.objects.select_for_update()
            .select_related("profile")
            .filter(tenant_id=tenant_id, pk=case_id)
            .first()
        )
        if case is None:
            raise NotFound("No such case.", field="id")
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = _check_status(status)
        if type is not None:
            changes["type"] = _check_type(type)
        if subject is not None or description is not None:
            new_subject, new_description = _check_text(
                case.subject if subject is None else subject,
                case.description if description is None else description,
            )
            changes["subject"], changes["description"] = new_subject, new_description
        if order_id is not None:
            changes["order_id"] = _check_order(case.profile, order_id)
        if due_at is not None:
            if due_at.tzinfo is None:
                raise ServiceError("Give the due time with its time zone offset.", field="dueAt")
            changes["due_at"] = due_at
        if assignee is not None:
            changes["assignee_user_id"], changes["assignee_email"] = assignee
        changed = sorted(k for k, v in changes.items() if getattr(case, k) != v)
        if not changed:
            return case
        was_open = case.status in OPEN_STATUSES
        for name in changed:
            setattr(case, name, changes[name])
        case.updated_at = now
        resolved = was_open and case.status not in OPEN_STATUSES
        if resolved:
            case.resolved_at = now
        elif case.status in OPEN_STATUSES:
            case.resolved_at = None
        case.save()
        events.case_event(case, "updated", actor, now, changed=",".join(changed))
        if resolved:
            events.case_event(case, "resolved", actor, now)
    return case

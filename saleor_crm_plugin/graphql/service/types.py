"""Notes, tags and cases as GraphQL types, with due times in two time zones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import graphene

from ...messaging.schedule import customer_zone
from ...service.models import Note, ServiceCase
from ...service.queries import zone_or_none
from ..core.context import crm_context
from ..core.errors import InvalidInput
from .dataloaders import CasesByProfileIdLoader, NotesByProfileIdLoader, TagsByProfileIdLoader

CRMCaseType = graphene.Enum(
    "CRMCaseType",
    [
        ("COMPLAINT", "complaint"),
        ("RETURN", "return"),
        ("QUESTION", "question"),
        ("OTHER", "other"),
    ],
)
CRMCaseStatus = graphene.Enum(
    "CRMCaseStatus",
    [("OPEN", "open"), ("WAITING", "waiting"), ("RESOLVED", "resolved"), ("CLOSED", "closed")],
)


def enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


class CRMZonedTime(graphene.ObjectType):
    time_zone = graphene.String(required=True, description="IANA zone, e.g. Asia/Tokyo.")
    local = graphene.String(
        required=True,
        description="ISO 8601 with that zone's offset, e.g. 2026-05-01T18:00:00+09:00.",
    )


def zoned(at: datetime, zone: str) -> CRMZonedTime:
    return CRMZonedTime(time_zone=zone, local=at.astimezone(ZoneInfo(zone)).isoformat())


class CRMNote(graphene.ObjectType):
    id = graphene.ID(required=True)
    body = graphene.String(required=True)
    author_user_id = graphene.String(required=True, description="Saleor user id; empty: an app.")
    author_email = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_id(root: Note, info: Any) -> str:
        return graphene.Node.to_global_id("CRMNote", root.pk)


class CRMTag(graphene.ObjectType):
    tag = graphene.String(required=True)
    added_by_user_id = graphene.String(required=True)
    added_by_email = graphene.String(required=True)
    added_at = graphene.DateTime(required=True)


class _CaseFields:
    """What the customer may see of their own case; staff see these and more."""

    id = graphene.ID(required=True)
    type = graphene.Field(CRMCaseType, required=True)
    status = graphene.Field(CRMCaseStatus, required=True)
    subject = graphene.String(required=True)
    description = graphene.String(required=True)
    order_id = graphene.String(required=True, description="Saleor order id; empty: none.")
    opened_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    resolved_at = graphene.DateTime()
    due_at = graphene.DateTime(required=True, description="In UTC.")
    due_at_customer = graphene.Field(
        CRMZonedTime,
        required=True,
        description="The due time in the customer's zone (from their address; else the store's).",
    )

    @staticmethod
    def resolve_id(root: ServiceCase, info: Any) -> str:
        return graphene.Node.to_global_id("CRMCase", root.pk)

    @staticmethod
    def resolve_due_at(root: ServiceCase, info: Any) -> datetime:
        return root.due_at.astimezone(UTC)

    @staticmethod
    def resolve_due_at_customer(root: ServiceCase, info: Any) -> CRMZonedTime:
        return zoned(root.due_at, customer_zone(root.profile, ""))


class CRMCustomerCase(graphene.ObjectType, _CaseFields):
    """A case as the customer who has it sees it."""


class CRMCase(graphene.ObjectType, _CaseFields):
    customer = graphene.Field("saleor_crm_plugin.graphql.profiles.types.CRMCustomer", required=True)
    assignee_user_id = graphene.String(required=True, description="Saleor staff user id.")
    assignee_email = graphene.String(required=True)
    opened_by = graphene.String(required=True, description="staff, app or customer.")
    due_at_staff = graphene.Field(
        CRMZonedTime,
        required=True,
        time_zone=graphene.String(
            description="IANA zone; without it the Crm-Time-Zone request header, else UTC."
        ),
        description="The due time in the staff member's zone.",
    )
    overdue = graphene.Boolean(required=True, description="Still open after its due time.")

    @staticmethod
    def resolve_customer(root: ServiceCase, info: Any) -> Any:
        return root.profile

    @staticmethod
    def resolve_due_at_staff(
        root: ServiceCase, info: Any, time_zone: str | None = None
    ) -> CRMZonedTime:
        wanted = time_zone or crm_context(info).time_zone or "UTC"
        if zone_or_none(wanted) is None:
            raise InvalidInput(f"Unknown time zone {wanted!r}; use an IANA name.", field="timeZone")
        return zoned(root.due_at, wanted)

    @staticmethod
    def resolve_overdue(root: ServiceCase, info: Any) -> bool:
        from django.utils import timezone

        return root.status in ("open", "waiting") and root.due_at < timezone.now()


def notes_field() -> graphene.List:
    return graphene.List(
        graphene.NonNull(CRMNote), required=True, description="Staff notes, newest first."
    )


def resolve_notes(root: Any, info: Any) -> Any:
    return crm_context(info).loader(NotesByProfileIdLoader).load(root.pk)


def tags_field() -> graphene.List:
    return graphene.List(graphene.NonNull(CRMTag), required=True, description="Staff tags.")


def resolve_tags(root: Any, info: Any) -> Any:
    return crm_context(info).loader(TagsByProfileIdLoader).load(root.pk)


def cases_field(of: type) -> graphene.List:
    return graphene.List(
        graphene.NonNull(of), required=True, description="Service cases, newest first."
    )


def resolve_cases(root: Any, info: Any) -> Any:
    def attach(found: list[ServiceCase]) -> list[ServiceCase]:
        for case in found:
            case.profile = root  # the zone comes from the profile we already hold
        return found

    return crm_context(info).loader(CasesByProfileIdLoader).load(root.pk).then(attach)

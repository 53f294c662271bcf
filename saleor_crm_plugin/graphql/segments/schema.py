"""Segments for staff (MANAGE_USERS): save, delete, preview, members, history, CSV export, and
the store's lifecycle thresholds."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import graphene
from django.utils import timezone

from ...conf import crm_settings
from ...profiles.models import Profile
from ...segments import queries, services
from ...segments.models import Segment
from ...segments.rules import RuleError
from ...segments.scores import Lifecycle, lifecycle_for
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.limits import MAX_PAGE
from ..core.permissions import MANAGE_USERS, require_permission
from ..profiles.types import CRMCustomer


def _profiles(ids: list[int]) -> list[Profile]:
    found = Profile.objects.select_related("tenant").in_bulk(ids)
    return [found[i] for i in ids if i in found]


def _page(first: int, offset: int) -> None:
    if not 0 < first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
    if offset < 0:
        raise InvalidInput("offset must be 0 or more.", field="offset")


class CRMSegmentStay(graphene.ObjectType):
    email = graphene.String(required=True)
    customer_id = graphene.ID(required=True)
    joined_at = graphene.DateTime(required=True)
    left_at = graphene.DateTime(description="Null while they are in the segment.")


class CRMSegment(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    rules = graphene.JSONString(required=True, description="See docs/segments.md.")
    members_count = graphene.Int(required=True)
    refreshed_at = graphene.DateTime(description="When the members were last brought up to date.")
    created_at = graphene.DateTime(required=True)
    members = graphene.List(
        graphene.NonNull(CRMCustomer),
        required=True,
        first=graphene.Int(default_value=20),
        offset=graphene.Int(default_value=0),
        description="Current members in the order they joined (membersCount in all).",
    )
    history = graphene.List(
        graphene.NonNull(CRMSegmentStay),
        required=True,
        first=graphene.Int(default_value=20),
        offset=graphene.Int(default_value=0),
        description="Every stay, newest change first: who joined and left when.",
    )

    @staticmethod
    def resolve_id(root: Segment, info: Any) -> str:
        return graphene.Node.to_global_id("CRMSegment", root.pk)

    @staticmethod
    def resolve_members(root: Segment, info: Any, first: int, offset: int) -> list[Profile]:
        _page(first, offset)
        return _profiles(queries.member_ids(root, offset=offset, limit=first))

    @staticmethod
    def resolve_history(root: Segment, info: Any, first: int, offset: int) -> list[Any]:
        _page(first, offset)
        return [
            CRMSegmentStay(
                email=s.email,
                customer_id=graphene.Node.to_global_id("CRMCustomer", s.profile_id),
                joined_at=s.joined_at,
                left_at=s.left_at,
            )
            for s in queries.history(root, offset=offset, limit=first)
        ]


class CRMSegmentPreview(graphene.ObjectType):
    count = graphene.Int(required=True, description="Customers the rules select now.")
    first = graphene.List(
        graphene.NonNull(CRMCustomer), required=True, description="The first of them, by spend."
    )


class CRMSegmentExport(graphene.ObjectType):
    filename = graphene.String(required=True)
    csv = graphene.String(required=True, description="Current members, one row each.")


class CRMLifecycleSettings(graphene.ObjectType):
    mode = graphene.String(
        required=True,
        description="cadence: thresholds are multiples of each customer's mean gap between "
        "purchases; days: days since the last purchase.",
    )
    at_risk_after = graphene.Float(required=True)
    dormant_after = graphene.Float(required=True)
    lost_after = graphene.Float(required=True)


def _lifecycle(found: Lifecycle) -> CRMLifecycleSettings:
    return CRMLifecycleSettings(
        mode=found.mode,
        at_risk_after=float(found.at_risk_after),
        dormant_after=float(found.dormant_after),
        lost_after=float(found.lost_after),
    )


def _segment(tenant: Any, global_id: str) -> Segment:
    try:
        kind, pk = graphene.Node.from_global_id(global_id)
        if kind != "CRMSegment":
            raise ValueError(kind)
        found = Segment.objects.select_related("tenant").filter(tenant=tenant, pk=int(pk)).first()
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid CRMSegment id.", field="id") from exc
    if found is None:
        raise CRMGraphQLError("No such segment.", field="id", code="NOT_FOUND")
    return found


def _rules_error(exc: RuleError) -> InvalidInput:
    return InvalidInput(str(exc), field="rules")


class SegmentQueries(graphene.ObjectType):
    crm_segments = graphene.List(
        graphene.NonNull(CRMSegment),
        required=True,
        description="The store's segments by name. MANAGE_USERS.",
    )
    crm_segment = graphene.Field(
        CRMSegment, id=graphene.ID(required=True), description="One segment. MANAGE_USERS."
    )
    crm_segment_preview = graphene.Field(
        CRMSegmentPreview,
        required=True,
        rules=graphene.JSONString(required=True),
        description="Who these rules select now, saving nothing. MANAGE_USERS.",
    )
    crm_segment_export = graphene.Field(
        CRMSegmentExport,
        required=True,
        id=graphene.ID(required=True),
        description="The segment's current members as CSV. MANAGE_USERS.",
    )
    crm_lifecycle_settings = graphene.Field(
        CRMLifecycleSettings,
        required=True,
        description="The store's lifecycle thresholds (its own or the defaults). MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_segments(root: Any, info: Any) -> list[Segment]:
        tenant = require_permission(info, MANAGE_USERS)
        return list(Segment.objects.filter(tenant=tenant).select_related("tenant").order_by("name"))

    @staticmethod
    def resolve_crm_segment(root: Any, info: Any, id: str) -> Segment:
        return _segment(require_permission(info, MANAGE_USERS), id)

    @staticmethod
    def resolve_crm_segment_preview(root: Any, info: Any, rules: Any) -> CRMSegmentPreview:
        tenant = require_permission(info, MANAGE_USERS)
        try:
            found = queries.preview(
                tenant, rules, timezone.now(), crm_settings.SEGMENT_PREVIEW_SIZE
            )
        except RuleError as exc:
            raise _rules_error(exc) from exc
        return CRMSegmentPreview(count=found.count, first=_profiles(found.first))

    @staticmethod
    def resolve_crm_segment_export(root: Any, info: Any, id: str) -> CRMSegmentExport:
        segment = _segment(require_permission(info, MANAGE_USERS), id)
        stamp = timezone.now().strftime("%Y-%m-%d")
        return CRMSegmentExport(
            filename=f"segment-{segment.pk}-{stamp}.csv", csv=queries.export_csv(segment)
        )

    @staticmethod
    def resolve_crm_lifecycle_settings(root: Any, info: Any) -> CRMLifecycleSettings:
        return _lifecycle(lifecycle_for(require_permission(info, MANAGE_USERS)))


class SegmentMutations(graphene.ObjectType):
    crm_segment_save = graphene.Field(
        CRMSegment,
        id=graphene.ID(description="The segment to change; a new one when omitted."),
        name=graphene.String(required=True),
        rules=graphene.JSONString(required=True),
        description="Create or change a segment; its members are filled at once. MANAGE_USERS.",
    )
    crm_segment_delete = graphene.Field(
        graphene.ID,
        id=graphene.ID(required=True),
        description="Delete a segment with its history; returns its id. MANAGE_USERS.",
    )
    crm_lifecycle_settings_save = graphene.Field(
        CRMLifecycleSettings,
        mode=graphene.String(required=True),
        at_risk_after=graphene.String(required=True),
        dormant_after=graphene.String(required=True),
        lost_after=graphene.String(required=True),
        description="Set the store's lifecycle thresholds (growing). MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_segment_save(
        root: Any, info: Any, name: str, rules: Any, id: str | None = None
    ) -> Segment:
        tenant = require_permission(info, MANAGE_USERS)
        segment_id = _segment(tenant, id).pk if id else None
        try:
            return services.save_segment(
                tenant, name=name, rules=rules, now=timezone.now(), segment_id=segment_id
            )
        except RuleError as exc:
            raise _rules_error(exc) from exc
        except services.SegmentError as exc:
            raise CRMGraphQLError(str(exc), field="name", code=exc.code.upper()) from exc

    @staticmethod
    def resolve_crm_segment_delete(root: Any, info: Any, id: str) -> str:
        tenant = require_permission(info, MANAGE_USERS)
        services.delete_segment(tenant, _segment(tenant, id).pk)
        return id

    @staticmethod
    def resolve_crm_lifecycle_settings_save(
        root: Any, info: Any, mode: str, at_risk_after: str, dormant_after: str, lost_after: str
    ) -> CRMLifecycleSettings:
        tenant = require_permission(info, MANAGE_USERS)
        try:
            wanted = Lifecycle(
                mode, Decimal(at_risk_after), Decimal(dormant_after), Decimal(lost_after)
            )
        except InvalidOperation as exc:
            raise InvalidInput("Thresholds are numbers, e.g. 2 or 90.") from exc
        try:
            services.save_lifecycle(tenant, wanted)
        except services.SegmentError as exc:
            raise InvalidInput(str(exc)) from exc
        return _lifecycle(lifecycle_for(tenant))

"""Notes, tags and service cases: staff (MANAGE_USERS) read and write them; a signed-in
customer opens a case from the storefront (``crmMeCaseOpen``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
from django.utils import timezone

from ...profiles.models import Profile
from ...profiles.queries import find_profile
from ...service import cases as case_services
from ...service import notes as note_services
from ...service import queries
from ...service.errors import ServiceError
from ...service.models import Note, ServiceCase
from ...service.types import Actor
from ...tenants.models import Tenant
from ..core.context import crm_context
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.limits import MAX_PAGE
from ..core.permissions import MANAGE_USERS, require_customer, require_permission
from ..core.principal import PrincipalKind
from .types import CRMCase, CRMCaseStatus, CRMCaseType, CRMCustomerCase, CRMNote, enum_value

MANAGE_STAFF = "MANAGE_STAFF"


def _actor(info: Any) -> Actor:
    principal = crm_context(info).principal
    return Actor(
        kind="app" if principal.kind is PrincipalKind.APP else "staff",
        user_id=principal.user_id or "",
        email=principal.email,
        can_manage_staff=principal.has(MANAGE_STAFF),
    )


def _refused(exc: ServiceError) -> CRMGraphQLError:
    return CRMGraphQLError(str(exc), field=exc.field or None, code=exc.code)


def _pk(global_id: str, kind: str) -> int:
    try:
        found, pk = graphene.Node.from_global_id(global_id)
        if found != kind:
            raise ValueError(found)
        return int(pk)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Invalid {kind} id.", field="id") from exc


def _customer(tenant: Tenant, customer_id: str | None, email: str | None) -> Profile:
    if bool(customer_id) == bool(email):
        raise InvalidInput("Give exactly one of customerId or email.", field="customerId")
    profile = find_profile(
        tenant,
        profile_id=_pk(customer_id, "CRMCustomer") if customer_id else None,
        email=email or "",
    )
    if profile is None:
        raise CRMGraphQLError("No such customer.", field="customerId", code="NOT_FOUND")
    return profile


class CRMCaseStats(graphene.ObjectType):
    open_now = graphene.Int(required=True, description="Open or waiting cases right now.")
    overdue_now = graphene.Int(required=True, description="Of those, past their due time.")
    opened = graphene.Int(required=True, description="Opened in the period.")
    resolved = graphene.Int(required=True, description="Resolved or closed in the period.")
    median_hours_to_resolve = graphene.Float(
        description="Median hours from opening to resolution of the cases resolved in the "
        "period; null when none were."
    )
    opened_by_type = graphene.JSONString(required=True, description='e.g. {"return": 3}.')


class ServiceQueries(graphene.ObjectType):
    crm_cases = graphene.List(
        graphene.NonNull(CRMCase),
        required=True,
        statuses=graphene.List(graphene.NonNull(CRMCaseStatus)),
        assignee_user_id=graphene.ID(),
        customer_id=graphene.ID(),
        first=graphene.Int(default_value=20),
        offset=graphene.Int(default_value=0),
        description="The store's service cases, soonest due first. MANAGE_USERS.",
    )
    crm_case_stats = graphene.Field(
        CRMCaseStats,
        required=True,
        from_=graphene.DateTime(required=True, name="from"),
        to=graphene.DateTime(required=True),
        description="Open cases now; opened, resolved and median time to resolve in "
        "[from, to). MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_cases(
        root: Any,
        info: Any,
        first: int = 20,
        offset: int = 0,
        statuses: list[Any] | None = None,
        assignee_user_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[ServiceCase]:
        tenant = require_permission(info, MANAGE_USERS)
        if not 0 < first <= MAX_PAGE or offset < 0:
            raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
        return queries.cases(
            tenant,
            statuses=[enum_value(s) for s in statuses or ()],
            assignee_user_id=assignee_user_id or "",
            profile_id=_pk(customer_id, "CRMCustomer") if customer_id else None,
            limit=first,
            offset=offset,
        )

    @staticmethod
    def resolve_crm_case_stats(root: Any, info: Any, from_: datetime, to: datetime) -> Any:
        tenant = require_permission(info, MANAGE_USERS)
        if to <= from_:
            raise InvalidInput("to must be after from.", field="to")
        stats = queries.case_stats(tenant, from_, to, timezone.now())
        return CRMCaseStats(
            open_now=stats.open_now,
            overdue_now=stats.overdue_now,
            opened=stats.opened,
            resolved=stats.resolved,
            median_hours_to_resolve=stats.median_hours_to_resolve,
            opened_by_type=stats.by_type,
        )


def _customer_args() -> dict[str, Any]:
    return {
        "customer_id": graphene.ID(description="CRM profile id."),
        "email": graphene.String(),
    }


def _change_tags(
    info: Any, customer_id: str | None, email: str | None, **change: list[str]
) -> list[str]:
    """Tag or untag a customer (staff and apps with MANAGE_USERS); the tags after the change."""
    tenant = require_permission(info, MANAGE_USERS)
    profile = _customer(tenant, customer_id, email)
    try:
        return note_services.change_tags(profile, _actor(info), timezone.now(), **change)
    except ServiceError as exc:
        raise _refused(exc) from exc


class ServiceMutations(graphene.ObjectType):
    crm_note_add = graphene.Field(
        CRMNote,
        body=graphene.String(required=True),
        **_customer_args(),
        description="Add a note on a customer, signed with your user. MANAGE_USERS.",
    )
    crm_note_delete = graphene.Field(
        graphene.ID,
        id=graphene.ID(required=True),
        description="Delete a note: its author, or staff with MANAGE_STAFF. MANAGE_USERS.",
    )
    crm_customer_tag = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        tags=graphene.List(graphene.NonNull(graphene.String), required=True),
        **_customer_args(),
        description="Add tags (lower-cased); returns the customer's tags. MANAGE_USERS.",
    )
    crm_customer_untag = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        tags=graphene.List(graphene.NonNull(graphene.String), required=True),
        **_customer_args(),
        description="Remove tags; returns the customer's tags. MANAGE_USERS.",
    )
    crm_case_open = graphene.Field(
        CRMCase,
        args={
            "type": CRMCaseType(required=True),
            "description": graphene.String(default_value=""),
        },
        subject=graphene.String(required=True),
        order_id=graphene.ID(description="Saleor order id of one of the customer's orders."),
        due_at=graphene.DateTime(description="Default: CRM_CASE_DUE_HOURS after opening."),
        assignee_user_id=graphene.ID(),
        assignee_email=graphene.String(),
        **_customer_args(),
        description="Open a service case for a customer. MANAGE_USERS.",
    )
    crm_case_update = graphene.Field(
        CRMCase,
        id=graphene.ID(required=True),
        args={"type": CRMCaseType(), "description": graphene.String()},
        status=CRMCaseStatus(),
        subject=graphene.String(),
        order_id=graphene.ID(),
        due_at=graphene.DateTime(),
        assignee_user_id=graphene.ID(description="Empty string: unassigned."),
        assignee_email=graphene.String(),
        description="Change a case (only the fields given). MANAGE_USERS.",
    )
    crm_me_case_open = graphene.Field(
        CRMCustomerCase,
        args={
            "type": CRMCaseType(required=True),
            "description": graphene.String(default_value=""),
        },
        subject=graphene.String(required=True),
        order_id=graphene.ID(description="Saleor order id of one of your orders."),
        description="The signed-in customer asks for help (storefront contact form); "
        "limited to CRM_CASE_CUSTOMER_DAILY_LIMIT a day.",
    )

    @staticmethod
    def resolve_crm_note_add(
        root: Any, info: Any, body: str, customer_id: str | None = None, email: str | None = None
    ) -> Note:
        tenant = require_permission(info, MANAGE_USERS)
        profile = _customer(tenant, customer_id, email)
        try:
            return note_services.add_note(profile, body, _actor(info), timezone.now())
        except ServiceError as exc:
            raise _refused(exc) from exc

    @staticmethod
    def resolve_crm_note_delete(root: Any, info: Any, id: str) -> str:
        tenant = require_permission(info, MANAGE_USERS)
        try:
            note_services.delete_note(tenant.pk, _pk(id, "CRMNote"), _actor(info), timezone.now())
        except ServiceError as exc:
            raise _refused(exc) from exc
        return id

    @staticmethod
    def resolve_crm_customer_tag(
        root: Any,
        info: Any,
        tags: list[str],
        customer_id: str | None = None,
        email: str | None = None,
    ) -> list[str]:
        return _change_tags(info, customer_id, email, add=tags)

    @staticmethod
    def resolve_crm_customer_untag(
        root: Any,
        info: Any,
        tags: list[str],
        customer_id: str | None = None,
        email: str | None = None,
    ) -> list[str]:
        return _change_tags(info, customer_id, email, remove=tags)

    @staticmethod
    def resolve_crm_case_open(
        root: Any,
        info: Any,
        type: Any,
        subject: str,
        description: str = "",
        order_id: str | None = None,
        due_at: datetime | None = None,
        assignee_user_id: str | None = None,
        assignee_email: str | None = None,
        customer_id: str | None = None,
        email: str | None = None,
    ) -> ServiceCase:
        tenant = require_permission(info, MANAGE_USERS)
        profile = _customer(tenant, customer_id, email)
        data = case_services.CaseInput(
            type=enum_value(type),
            subject=subject,
            description=description,
            order_id=order_id or "",
            due_at=due_at,
            assignee_user_id=assignee_user_id or "",
            assignee_email=assignee_email or "",
        )
        try:
            return case_services.open_case(profile, data, _actor(info), timezone.now())
        except ServiceError as exc:
            raise _refused(exc) from exc

    @staticmethod
    def resolve_crm_case_update(
        root: Any,
        info: Any,
        id: str,
        status: Any = None,
        type: Any = None,
        subject: str | None = None,
        description: str | None = None,
        order_id: str | None = None,
        due_at: datetime | None = None,
        assignee_user_id: str | None = None,
        assignee_email: str | None = None,
    ) -> ServiceCase:
        tenant = require_permission(info, MANAGE_USERS)
        assignee = None
        if assignee_user_id is not None or assignee_email is not None:
            assignee = (assignee_user_id or "", assignee_email or "")
        try:
            return case_services.update_case(
                tenant.pk,
                _pk(id, "CRMCase"),
                _actor(info),
                timezone.now(),
                status=None if status is None else enum_value(status),
                type=None if type is None else enum_value(type),
                subject=subject,
                description=description,
                order_id=order_id,
                due_at=due_at,
                assignee=assignee,
            )
        except ServiceError as exc:
            raise _refused(exc) from exc

    @staticmethod
    def resolve_crm_me_case_open(
        root: Any,
        info: Any,
        type: Any,
        subject: str,
        description: str = "",
        order_id: str | None = None,
    ) -> ServiceCase:
        tenant, user_id = require_customer(info)
        profile = find_profile(tenant, user_id=user_id)
        if profile is None or profile.user_id != user_id:
            raise CRMGraphQLError("There is no CRM profile for you yet.", code="no_profile")
        principal = crm_context(info).principal
        actor = Actor(kind="customer", user_id=user_id, email=principal.email)
        data = case_services.CaseInput(
            type=enum_value(type), subject=subject, description=description,
            order_id=order_id or "",
        )  # fmt: skip
        try:
            return case_services.open_case(profile, data, actor, timezone.now())
        except ServiceError as exc:
            raise _refused(exc) from exc

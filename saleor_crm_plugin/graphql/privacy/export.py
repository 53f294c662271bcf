"""Right of access and erasure: staff export or erase a customer, a customer exports themself."""

from __future__ import annotations

from typing import Any

import graphene

from ...privacy.erasure import erase_customer
from ...privacy.export import VERSION, export_customer
from ...privacy.summary import render_summary
from ...profiles.models import Profile
from ...profiles.queries import find_profile
from ..core.context import crm_context
from ..core.errors import CRMGraphQLError, InvalidInput, PermissionDenied
from ..core.permissions import MANAGE_USERS, require_customer, require_permission
from ..profiles.schema import _profile_pk

MAX_REASON = 255


class CRMCustomerExport(graphene.ObjectType):
    version = graphene.Int(required=True, description="Version of the document's shape.")
    document = graphene.JSONString(
        required=True, description="Everything the CRM holds on the customer (docs/privacy.md)."
    )
    summary_html = graphene.String(
        required=True, description="The same, as a page for the customer, in their language."
    )

    @staticmethod
    def of(profile: Profile) -> CRMCustomerExport:
        document = export_customer(profile)
        language = profile.language or profile.customer_language
        return CRMCustomerExport(
            version=VERSION, document=document, summary_html=render_summary(document, language)
        )


class CRMErasure(graphene.ObjectType):
    erased = graphene.Boolean(required=True)
    erased_at = graphene.DateTime(required=True)


def _staff_lookup(info: Any, id: str | None, user_id: str | None, email: str) -> Profile | None:
    tenant = require_permission(info, MANAGE_USERS)
    if sum(bool(x) for x in (id, user_id, email)) != 1:
        raise InvalidInput("Give exactly one of id, userId or email.", field="id")
    return find_profile(
        tenant, profile_id=_profile_pk(id) if id else None, user_id=user_id, email=email
    )


def _who() -> dict[str, Any]:
    return {
        "id": graphene.ID(description="CRM profile id."),
        "user_id": graphene.ID(description="Saleor User id."),
        "email": graphene.String(),
    }


class PrivacyQueries(graphene.ObjectType):
    crm_customer_export = graphene.Field(
        CRMCustomerExport,
        **_who(),
        description=(
            "Everything the CRM holds on one customer, as JSON and as a readable page; null "
            "when the CRM has no profile for them. Requires MANAGE_USERS."
        ),
    )
    crm_me_export = graphene.Field(
        CRMCustomerExport,
        description=(
            "Everything the CRM holds on the signed-in customer; the error no_profile when it "
            "holds nothing."
        ),
    )

    @staticmethod
    def resolve_crm_customer_export(
        root: Any, info: Any, id: str | None = None, user_id: str | None = None, email: str = ""
    ) -> CRMCustomerExport | None:
        profile = _staff_lookup(info, id, user_id, email)
        return CRMCustomerExport.of(profile) if profile is not None else None

    @staticmethod
    def resolve_crm_me_export(root: Any, info: Any) -> CRMCustomerExport:
        tenant, user_id = require_customer(info)
        profile = find_profile(tenant, user_id=user_id)
        if profile is None:
            raise CRMGraphQLError("The CRM holds nothing on you.", code="no_profile")
        if profile.user_id != user_id:
            raise PermissionDenied("Not your profile.")
        return CRMCustomerExport.of(profile)


class PrivacyMutations(graphene.ObjectType):
    crm_customer_erase = graphene.Field(
        CRMErasure,
        **_who(),
        reason=graphene.String(
            required=True, description="Why (e.g. the request's ticket number); kept for audit."
        ),
        description=(
            "Erase a customer's personal data from the CRM for good (the right to be "
            "forgotten); anonymous order figures stay. Requires MANAGE_USERS."
        ),
    )

    @staticmethod
    def resolve_crm_customer_erase(
        root: Any,
        info: Any,
        reason: str,
        id: str | None = None,
        user_id: str | None = None,
        email: str = "",
    ) -> CRMErasure:
        profile = _staff_lookup(info, id, user_id, email)
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON or "@" in reason:
            raise InvalidInput(
                f"Give a reason of 1 to {MAX_REASON} characters, without an e-mail address.",
                field="reason",
            )
        if profile is None:
            raise CRMGraphQLError("The CRM has no such customer.", code="not_found", field="id")
        principal = crm_context(info).principal
        actor = principal.user_id or f"app:{principal.kind}"
        done = erase_customer(profile, reason=reason, actor=actor)
        return CRMErasure(erased=True, erased_at=done.erased_at)

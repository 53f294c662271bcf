"""crmFlows and crmMessagePreview: the automatic message flows for staff, and each message
rendered by the real renderer in a chosen locale (the flow editor on the CRM page).

Changing a flow goes through crmStoreSettingsSave (recovery steps and discounts, win-back
discount): one place, validated all or nothing, as the store settings always are.
"""

from __future__ import annotations

from typing import Any

import graphene
from django.utils import timezone

from ...messaging import flows
from ...profiles.queries import find_profile
from ...tenants.store_settings import Discount
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import MANAGE_USERS, require_permission


class CRMFlowDiscount(graphene.ObjectType):
    percentage = graphene.Boolean(required=True, description="A percentage, else an amount.")
    value = graphene.String(required=True, description="10 for 10%, or 5.00 in the currency.")
    days = graphene.Int(required=True, description="Valid this many days from the message.")


class CRMFlowStep(graphene.ObjectType):
    position = graphene.Int(required=True, description="1 for the first message.")
    hours = graphene.Float(
        required=True,
        description="Hours after the trigger (before the points expire, for that flow).",
    )
    discount = graphene.Field(CRMFlowDiscount, description="A personal discount; null for none.")


class CRMFlow(graphene.ObjectType):
    kind = graphene.String(required=True, description="The message kind, e.g. win_back.")
    trigger = graphene.String(
        required=True,
        description="checkout_abandoned, product_viewed, signed_up, order_fulfilled, "
        "became_dormant, points_expire or tier_changed.",
    )
    enabled = graphene.Boolean(required=True)
    steps = graphene.List(graphene.NonNull(CRMFlowStep), required=True)
    settings = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Store settings that change this flow (crmStoreSettingsSave); "
        "empty when only the installation's CRM_ settings do.",
    )


class CRMMessagePreview(graphene.ObjectType):
    kind = graphene.String(required=True)
    locale = graphene.String(required=True, description="The language shown after fallbacks.")
    subject = graphene.String(required=True)
    text = graphene.String(required=True)
    html = graphene.String(
        required=True, description="The whole e-mail; show it in a sandboxed frame."
    )


def _discount(found: Discount | None) -> CRMFlowDiscount | None:
    if found is None:
        return None
    return CRMFlowDiscount(percentage=found.percentage, value=str(found.value), days=found.days)


def _flow(flow: flows.Flow) -> CRMFlow:
    return CRMFlow(
        kind=flow.kind,
        trigger=flow.trigger,
        enabled=flow.enabled,
        steps=[
            CRMFlowStep(position=s.position, hours=s.hours, discount=_discount(s.discount))
            for s in flow.steps
        ],
        settings=list(flow.settings),
    )


class FlowQueries(graphene.ObjectType):
    crm_flows = graphene.List(
        graphene.NonNull(CRMFlow),
        required=True,
        description="The automatic message flows with their steps, delays and discounts. "
        "MANAGE_USERS.",
    )
    crm_message_preview = graphene.Field(
        CRMMessagePreview,
        required=True,
        kind=graphene.String(required=True, description="A flow's message kind."),
        locale=graphene.String(required=True, description="A customer's language, e.g. de-AT."),
        step=graphene.Int(default_value=1, description="The flow's step, 1 for the first."),
        email=graphene.String(
            description="A customer whose name, latest order and points fill the sample."
        ),
        description="A flow's message as a customer with this language gets it; nothing is "
        "sent. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_flows(root: Any, info: Any) -> list[CRMFlow]:
        return [_flow(f) for f in flows.flows(require_permission(info, MANAGE_USERS))]

    @staticmethod
    def resolve_crm_message_preview(
        root: Any, info: Any, kind: str, locale: str, step: int, email: str | None = None
    ) -> CRMMessagePreview:
        tenant = require_permission(info, MANAGE_USERS)
        if not locale.strip() or len(locale) > 35:
            raise InvalidInput("Give a language such as de or de-AT.", field="locale")
        profile = None
        if email:
            profile = find_profile(tenant, email=email)
            if profile is None:
                raise InvalidInput("No such customer in the CRM.", field="email")
        try:
            shown = flows.preview(
                tenant, kind, locale, step=step, profile=profile, now=timezone.now()
            )
        except flows.UnknownFlow as exc:
            raise CRMGraphQLError(str(exc), field="kind", code=exc.code) from exc
        return CRMMessagePreview(
            kind=shown.kind,
            locale=shown.locale,
            subject=shown.rendered.subject,
            text=shown.rendered.text,
            html=shown.rendered.html,
        )

"""Campaigns for staff (MANAGE_USERS): list, read with counts and response, preview a step in
a language, save a draft, launch, cancel."""

from __future__ import annotations

from typing import Any

import graphene
from django.utils import timezone

from ...campaigns import queries, services
from ...campaigns.errors import CampaignError
from ...campaigns.models import Campaign, TargetKind
from ...campaigns.types import CampaignInput, Content, StepInput
from ...conf import crm_settings
from ...tenants.models import Tenant
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import MANAGE_USERS, require_permission
from .types import CRMCampaign, CRMCampaignPreview


class CRMCampaignContentInput(graphene.InputObjectType):
    locale = graphene.String(required=True, description="e.g. de-AT, de, en.")
    subject = graphene.String(required=True)
    body = graphene.String(required=True)


class CRMCampaignStepInput(graphene.InputObjectType):
    send_at = graphene.DateTime(required=True, description="With a time zone or offset.")
    contents = graphene.List(graphene.NonNull(CRMCampaignContentInput), required=True)


class CRMCampaignInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    segment_id = graphene.ID(description="Send to a custom segment...")
    rfm_group = graphene.String(description="...or to an RFM group...")
    stage = graphene.String(description="...or to a lifecycle stage (give exactly one).")
    store_channel = graphene.String(default_value="", description="Saleor channel slug.")
    wave_size = graphene.Int(description="At most this many recipients per wave; omit for all.")
    wave_minutes = graphene.Int(default_value=60, description="Minutes between waves.")
    steps = graphene.List(graphene.NonNull(CRMCampaignStepInput), required=True)


def _campaign(tenant: Tenant, global_id: str) -> Campaign:
    try:
        kind, pk = graphene.Node.from_global_id(global_id)
        if kind != "CRMCampaign":
            raise ValueError(kind)
        found = Campaign.objects.select_related("tenant").filter(tenant=tenant, pk=int(pk)).first()
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid CRMCampaign id.", field="id") from exc
    if found is None:
        raise CRMGraphQLError("No such campaign.", field="id", code="NOT_FOUND")
    return found


def _segment_pk(global_id: str) -> int:
    try:
        kind, pk = graphene.Node.from_global_id(global_id)
        if kind != "CRMSegment":
            raise ValueError(kind)
        return int(pk)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid CRMSegment id.", field="segmentId") from exc


def _input(data: Any) -> CampaignInput:
    """The GraphQL input as plain data; the rules themselves are checked by the service."""
    targets = [
        (kind, value)
        for kind, value in (
            (TargetKind.SEGMENT, data.get("segment_id")),
            (TargetKind.RFM_GROUP, data.get("rfm_group")),
            (TargetKind.STAGE, data.get("stage")),
        )
        if value
    ]
    if len(targets) != 1:
        raise InvalidInput("Give exactly one of segmentId, rfmGroup or stage.", field="target")
    kind, value = targets[0]
    steps = []
    for i, step in enumerate(data["steps"]):
        if step["send_at"].tzinfo is None:
            raise InvalidInput(f"steps[{i}].sendAt: give a time zone offset.", field="sendAt")
        contents = tuple(Content(c["locale"], c["subject"], c["body"]) for c in step["contents"])
        steps.append(StepInput(step["send_at"], contents))
    return CampaignInput(
        name=data["name"],
        target_kind=kind,
        segment_id=_segment_pk(value) if kind == TargetKind.SEGMENT else None,
        target_value="" if kind == TargetKind.SEGMENT else str(value),
        store_channel=data.get("store_channel") or "",
        wave_size=data.get("wave_size"),
        wave_minutes=data.get("wave_minutes") or 60,
        steps=tuple(steps),
    )


def _error(exc: CampaignError) -> CRMGraphQLError:
    return CRMGraphQLError(str(exc), field=exc.field or None, code=exc.code)


class CampaignQueries(graphene.ObjectType):
    crm_campaigns = graphene.List(
        graphene.NonNull(CRMCampaign),
        required=True,
        description="The store's campaigns, newest first. MANAGE_USERS.",
    )
    crm_campaign = graphene.Field(
        CRMCampaign,
        id=graphene.ID(required=True),
        description="One campaign with counts and response. MANAGE_USERS.",
    )
    crm_campaign_preview = graphene.Field(
        CRMCampaignPreview,
        required=True,
        id=graphene.ID(required=True),
        step=graphene.Int(default_value=1, description="1 for the first message."),
        locale=graphene.String(required=True, description="A customer's language, e.g. de-AT."),
        description="A step as a customer with this language gets it. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_campaigns(root: Any, info: Any) -> list[Campaign]:
        tenant = require_permission(info, MANAGE_USERS)
        return list(
            Campaign.objects.filter(tenant=tenant)
            .select_related("tenant", "segment")
            .order_by("-id")
        )

    @staticmethod
    def resolve_crm_campaign(root: Any, info: Any, id: str) -> Campaign:
        return _campaign(require_permission(info, MANAGE_USERS), id)

    @staticmethod
    def resolve_crm_campaign_preview(
        root: Any, info: Any, id: str, locale: str, step: int
    ) -> CRMCampaignPreview:
        tenant = require_permission(info, MANAGE_USERS)
        campaign = _campaign(tenant, id)
        found = campaign.steps.filter(position=step).first()
        if found is None:
            raise CRMGraphQLError("This campaign has no such step.", field="step", code="NOT_FOUND")
        found.campaign = campaign
        shown = queries.preview(
            found,
            locale,
            shop=crm_settings.SHOP_NAME or tenant.saleor_domain,
            unsubscribe_url=f"{crm_settings.PUBLIC_URL}/unsubscribe/preview",
        )
        return CRMCampaignPreview(
            locale=shown.locale,
            subject=shown.rendered.subject,
            text=shown.rendered.text,
            html=shown.rendered.html,
        )


class CampaignMutations(graphene.ObjectType):
    crm_campaign_save = graphene.Field(
        CRMCampaign,
        id=graphene.ID(description="The draft to change; a new one when omitted."),
        input=CRMCampaignInput(required=True),
        description="Create or change a draft campaign. MANAGE_USERS.",
    )
    crm_campaign_launch = graphene.Field(
        CRMCampaign,
        id=graphene.ID(required=True),
        description="Take the audience snapshot and schedule the waves. MANAGE_USERS.",
    )
    crm_campaign_cancel = graphene.Field(
        CRMCampaign,
        id=graphene.ID(required=True),
        description="Stop it: unreleased waves and waiting messages never go. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_campaign_save(
        root: Any, info: Any, input: Any, id: str | None = None
    ) -> Campaign:
        tenant = require_permission(info, MANAGE_USERS)
        campaign_id = _campaign(tenant, id).pk if id else None
        try:
            return services.save_campaign(tenant, _input(input), timezone.now(), campaign_id)
        except CampaignError as exc:
            raise _error(exc) from exc

    @staticmethod
    def resolve_crm_campaign_launch(root: Any, info: Any, id: str) -> Campaign:
        tenant = require_permission(info, MANAGE_USERS)
        try:
            return services.launch_campaign(tenant, _campaign(tenant, id).pk, timezone.now())
        except CampaignError as exc:
            raise _error(exc) from exc

    @staticmethod
    def resolve_crm_campaign_cancel(root: Any, info: Any, id: str) -> Campaign:
        tenant = require_permission(info, MANAGE_USERS)
        return services.cancel_campaign(tenant, _campaign(tenant, id).pk, timezone.now())

"""Campaigns as staff see them: settings, steps with their versions, counts and response."""

from __future__ import annotations

from typing import Any

import graphene

from ...campaigns import queries
from ...campaigns.models import Campaign, CampaignStep, TargetKind
from ..core.money import CRMMoney, money


class CRMCampaignContent(graphene.ObjectType):
    locale = graphene.String(required=True, description="e.g. de-at, de, en (lower case).")
    subject = graphene.String(required=True)
    body = graphene.String(
        required=True,
        description="Markdown-ish text: paragraphs, # heading, - lists, **bold**, "
        "[label](https://...) links.",
    )


class CRMCountByReason(graphene.ObjectType):
    reason = graphene.String(required=True)
    count = graphene.Int(required=True)


class CRMCampaignCounts(graphene.ObjectType):
    released = graphene.Int(required=True, description="Messages put in the outbox so far.")
    queued = graphene.Int(
        required=True, description="Waiting in the outbox (send window, frequency cap)."
    )
    sent = graphene.Int(required=True)
    failed = graphene.Int(required=True, description="Hard bounces, SMTP errors.")
    skipped = graphene.List(
        graphene.NonNull(CRMCountByReason),
        required=True,
        description="Not sent, by reason: no_consent, consent_withdrawn, suppressed, "
        "no_address, campaign_cancelled.",
    )


def _counts(found: queries.Counts) -> CRMCampaignCounts:
    return CRMCampaignCounts(
        released=found.released,
        queued=found.queued,
        sent=found.sent,
        failed=found.failed,
        skipped=[CRMCountByReason(reason=r, count=n) for r, n in sorted(found.skipped.items())],
    )


class CRMCampaignResponse(graphene.ObjectType):
    responders = graphene.Int(required=True, description="Recipients who ordered.")
    orders = graphene.Int(required=True)
    revenue = graphene.Field(
        CRMMoney, required=True, description="Gross, in the store's base currency."
    )


def _response(found: queries.Response, currency: str) -> CRMCampaignResponse:
    return CRMCampaignResponse(
        responders=found.responders,
        orders=found.orders,
        revenue=money(found.revenue_minor, currency),
    )


def _cached(campaign: Campaign, name: str, compute: Any) -> Any:
    """Counts and response are computed once per campaign per request, for all its steps."""
    if not hasattr(campaign, name):
        setattr(campaign, name, compute(campaign))
    return getattr(campaign, name)


class CRMCampaignStep(graphene.ObjectType):
    position = graphene.Int(required=True, description="1 for the first message.")
    send_at = graphene.DateTime(required=True)
    contents = graphene.List(graphene.NonNull(CRMCampaignContent), required=True)
    waves_total = graphene.Int(required=True, description="Set at launch.")
    waves_released = graphene.Int(required=True)
    next_release_at = graphene.DateTime(description="When the next wave goes; null when none.")
    counts = graphene.Field(CRMCampaignCounts, required=True)
    response = graphene.Field(
        CRMCampaignResponse,
        required=True,
        description="Orders within the attribution window after this step's message.",
    )

    @staticmethod
    def resolve_contents(root: CampaignStep, info: Any) -> list[CRMCampaignContent]:
        return [CRMCampaignContent(locale=k, **v) for k, v in sorted(root.content.items())]

    @staticmethod
    def resolve_counts(root: CampaignStep, info: Any) -> CRMCampaignCounts:
        found = _cached(root.campaign, "_counts", queries.counts)
        return _counts(found.get(root.position, queries.Counts()))

    @staticmethod
    def resolve_response(root: CampaignStep, info: Any) -> CRMCampaignResponse:
        found = _cached(root.campaign, "_response", queries.response)
        zero = queries.Response(0, 0, 0)
        return _response(found.get(root.position, zero), root.campaign.tenant.base_currency)


class CRMCampaign(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    status = graphene.String(required=True, description="draft, scheduled, sending, done, "
                             "cancelled.")  # fmt: skip
    segment_id = graphene.ID(description="The custom segment it goes to.")
    segment_name = graphene.String()
    rfm_group = graphene.String(description="Or: the RFM group it goes to.")
    stage = graphene.String(description="Or: the lifecycle stage it goes to.")
    store_channel = graphene.String(
        required=True, description="Saleor channel: consent, sender, default language."
    )
    channel = graphene.String(required=True, description="How it travels: email.")
    wave_size = graphene.Int(description="At most this many recipients per wave; null: all.")
    wave_minutes = graphene.Int(required=True, description="Minutes between waves.")
    audience = graphene.Int(required=True, description="Recipients in the launch snapshot.")
    created_at = graphene.DateTime(required=True)
    launched_at = graphene.DateTime()
    finished_at = graphene.DateTime(description="When the last wave was released.")
    cancelled_at = graphene.DateTime()
    steps = graphene.List(graphene.NonNull(CRMCampaignStep), required=True)
    counts = graphene.Field(CRMCampaignCounts, required=True, description="All steps.")
    response = graphene.Field(CRMCampaignResponse, required=True, description="All steps.")

    @staticmethod
    def resolve_id(root: Campaign, info: Any) -> str:
        return graphene.Node.to_global_id("CRMCampaign", root.pk)

    @staticmethod
    def resolve_segment_id(root: Campaign, info: Any) -> str | None:
        if root.segment_id is None:
            return None
        return graphene.Node.to_global_id("CRMSegment", root.segment_id)

    @staticmethod
    def resolve_segment_name(root: Campaign, info: Any) -> str | None:
        return root.segment.name if root.segment is not None else None

    @staticmethod
    def resolve_rfm_group(root: Campaign, info: Any) -> str | None:
        return root.target_value if root.target_kind == TargetKind.RFM_GROUP else None

    @staticmethod
    def resolve_stage(root: Campaign, info: Any) -> str | None:
        return root.target_value if root.target_kind == TargetKind.STAGE else None

    @staticmethod
    def resolve_audience(root: Campaign, info: Any) -> int:
        return root.audience_count

    @staticmethod
    def resolve_steps(root: Campaign, info: Any) -> list[CampaignStep]:
        steps = list(root.steps.order_by("position"))
        for step in steps:
            step.campaign = root  # one campaign object: counts computed once
        return steps

    @staticmethod
    def resolve_counts(root: Campaign, info: Any) -> CRMCampaignCounts:
        return _counts(_cached(root, "_counts", queries.counts)[0])

    @staticmethod
    def resolve_response(root: Campaign, info: Any) -> CRMCampaignResponse:
        found = _cached(root, "_response", queries.response)[0]
        return _response(found, root.tenant.base_currency)


class CRMCampaignPreview(graphene.ObjectType):
    locale = graphene.String(required=True, description="The version shown after fallbacks.")
    subject = graphene.String(required=True)
    text = graphene.String(required=True)
    html = graphene.String(required=True)

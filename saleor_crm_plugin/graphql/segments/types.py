"""Scores on a customer (staff) and the lifecycle stage a customer may see about themselves."""

from __future__ import annotations

from typing import Any

import graphene

from ...profiles.models import Profile
from ...segments.models import CustomerScores
from ..core.context import crm_context
from .dataloaders import ScoresByProfileIdLoader, StageHistoryByProfileIdLoader


class CRMCustomerScores(graphene.ObjectType):
    """What the scoring concluded (docs/segments.md); for staff only."""

    recency = graphene.Int(description="RFM recency score 1-5; null for a prospect.")
    frequency = graphene.Int(description="RFM frequency score 1-5.")
    monetary = graphene.Int(description="RFM monetary score 1-5.")
    rfm_group = graphene.String(
        required=True,
        description="champions, loyal, active, needs_attention, new, promising, at_risk, "
        "previously_loyal, almost_lost, dormant or prospects; empty before the first recompute.",
    )
    quadrant = graphene.String(
        required=True, description="high|low_value_high|low_activity; empty for a prospect."
    )
    stage = graphene.String(
        required=True, description="new, active, at_risk, dormant, lost; empty for a prospect."
    )
    cadence_days = graphene.Float(
        description="Mean days between their purchases; null when they bought once."
    )
    risk_flags = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="refunds, returns, disputes, dispute_lost, cancellations.",
    )
    refund_rate = graphene.Float(required=True)
    return_rate = graphene.Float(required=True)
    cancelled_orders = graphene.Int(required=True)
    disputes = graphene.Int(required=True)
    disputes_lost = graphene.Int(required=True)
    changed_at = graphene.DateTime(required=True, description="When any of these last changed.")

    @staticmethod
    def resolve_cadence_days(root: CustomerScores, info: Any) -> float | None:
        return float(root.cadence_days) if root.cadence_days is not None else None

    @staticmethod
    def resolve_refund_rate(root: CustomerScores, info: Any) -> float:
        return float(root.refund_rate)

    @staticmethod
    def resolve_return_rate(root: CustomerScores, info: Any) -> float:
        return float(root.return_rate)


def scores_field() -> graphene.Field:
    return graphene.Field(
        CRMCustomerScores, description="RFM, quadrant, stage and risk flags; null until scored."
    )


def resolve_scores(root: Profile, info: Any) -> Any:
    return crm_context(info).loader(ScoresByProfileIdLoader).load(root.pk)


class CRMStageChange(graphene.ObjectType):
    """One change of the customer's lifecycle stage, as the CRM stored it (docs/segments.md)."""

    from_stage = graphene.String(
        required=True, description="The stage before; empty for the customer's first stage."
    )
    to_stage = graphene.String(required=True, description="new, active, at_risk, dormant, lost.")
    changed_at = graphene.DateTime(
        required=True,
        description="When the scoring that changed it ran (an order arriving, or the recompute).",
    )


def stage_history_field() -> graphene.List:
    return graphene.List(
        graphene.NonNull(CRMStageChange),
        required=True,
        description="Every stage change since the history began, oldest first.",
    )


def resolve_stage_history(root: Profile, info: Any) -> Any:
    return crm_context(info).loader(StageHistoryByProfileIdLoader).load(root.pk)


def lifecycle_stage_field() -> graphene.Field:
    return graphene.String(
        description="new, active, at_risk, dormant or lost, from the customer's own purchase "
        "rhythm; null before a first purchase. Lets a storefront welcome a customer back."
    )


def resolve_lifecycle_stage(root: Profile, info: Any) -> Any:
    loader = crm_context(info).loader(ScoresByProfileIdLoader)
    return loader.load(root.pk).then(lambda s: (s.stage or None) if s is not None else None)

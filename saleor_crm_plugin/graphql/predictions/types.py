"""Predictions and recommendations on a customer (staff), and what a customer may see."""

from __future__ import annotations

from typing import Any

import graphene

from ...predictions.models import CustomerPrediction
from ...profiles.models import Profile
from ..core.context import crm_context
from ..core.limits import MAX_PAGE
from ..core.money import CRMMoney, money
from .dataloaders import PredictionByProfileIdLoader, RecommendationsByProfileIdLoader


class CRMCustomerPrediction(graphene.ObjectType):
    """What the last recompute predicts for a customer (docs/predictions.md); staff only."""

    method = graphene.String(
        required=True, description="bgnbd (BG/NBD + Gamma-Gamma) or heuristic (little history)."
    )
    churn_risk = graphene.Float(
        required=True, description="0-1: how likely they will not buy again."
    )
    next_order_at = graphene.DateTime(
        description="When they would probably order next, if still a customer."
    )
    expected_orders_12m = graphene.Float(
        required=True, description="Purchases expected in the next 12 months."
    )
    expected_order_value = graphene.Field(CRMMoney, required=True, description="Base currency.")
    value_12m = graphene.Field(
        CRMMoney, required=True, description="Predicted spend in the next 12 months, base currency."
    )
    computed_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_expected_order_value(root: CustomerPrediction, info: Any) -> CRMMoney:
        return money(root.expected_order_value_minor, root.tenant.base_currency)

    @staticmethod
    def resolve_value_12m(root: CustomerPrediction, info: Any) -> CRMMoney:
        return money(root.value_12m_minor, root.tenant.base_currency)


class CRMRecommendation(graphene.ObjectType):
    product_id = graphene.ID(required=True, description="Saleor's Product id.")
    name = graphene.String(required=True, description="Newest known name; empty if unknown.")
    slug = graphene.String(required=True)
    category_slug = graphene.String(required=True)
    reason = graphene.String(
        required=True, description="viewed (not bought), bought_together or category."
    )
    because = graphene.String(
        required=True,
        description="The product bought it goes with, or the category; empty for a view.",
    )


def prediction_field() -> graphene.Field:
    return graphene.Field(
        CRMCustomerPrediction, description="Null before the first recompute or a purchase."
    )


def resolve_prediction(root: Profile, info: Any) -> Any:
    loader = crm_context(info).loader(PredictionByProfileIdLoader)
    return loader.load(root.pk)


def recommendations_field() -> graphene.List:
    return graphene.List(
        graphene.NonNull(CRMRecommendation),
        required=True,
        first=graphene.Int(default_value=10),
        description="Products to show them, best first: viewed but not bought, bought together "
        "with what they bought, bestsellers of their categories; never what they bought.",
    )


def resolve_recommendations(root: Profile, info: Any, first: int = 10) -> Any:
    first = max(0, min(first, MAX_PAGE))
    loader = crm_context(info).loader(RecommendationsByProfileIdLoader)
    return loader.load((root.tenant_id, root.pk, first)).then(
        lambda items: [CRMRecommendation(**vars(r)) for r in items]
    )


def next_order_field() -> graphene.Field:
    return graphene.DateTime(
        description="When the customer would probably order next, from their own rhythm; null "
        "before a first purchase. Lets a storefront suggest a reorder at the right time."
    )


def resolve_next_order(root: Profile, info: Any) -> Any:
    loader = crm_context(info).loader(PredictionByProfileIdLoader)
    return loader.load(root.pk).then(lambda p: p.next_order_at if p is not None else None)

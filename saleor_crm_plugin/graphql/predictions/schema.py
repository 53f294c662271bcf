"""The store's prediction model, for staff: which method, its parameters, the data behind it."""

from __future__ import annotations

from typing import Any

import graphene

from ...predictions.models import PredictionModel
from ..core.permissions import MANAGE_USERS, require_permission


class CRMPredictionModel(graphene.ObjectType):
    method = graphene.String(
        required=True, description="bgnbd or heuristic; empty before the first recompute."
    )
    reason = graphene.String(required=True, description="Why the heuristic; empty for bgnbd.")
    r = graphene.Float(description="BG/NBD: shape of the purchase rates.")
    alpha = graphene.Float(description="BG/NBD: scale of the purchase rates, in days.")
    a = graphene.Float(description="BG/NBD: drop-out probability Beta(a, b).")
    b = graphene.Float()
    p = graphene.Float(description="Gamma-Gamma: shape of order values.")
    q = graphene.Float(description="Gamma-Gamma: shape of customers' mean values.")
    gamma = graphene.Float(description="Gamma-Gamma: scale, base currency minor units.")
    customers = graphene.Int(required=True, description="Customers with a purchase.")
    repeat_customers = graphene.Int(required=True, description="Of them, bought twice or more.")
    history_days = graphene.Float(required=True, description="Days since the first purchase.")
    store_gap_days = graphene.Float(description="Median of customers' average gaps (days).")
    fitted_at = graphene.DateTime(description="Null before the first recompute.")


class PredictionQueries(graphene.ObjectType):
    crm_prediction_model = graphene.Field(
        CRMPredictionModel,
        required=True,
        description="The store's last prediction fit (docs/predictions.md). MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_prediction_model(root: Any, info: Any) -> PredictionModel:
        tenant = require_permission(info, MANAGE_USERS)
        found = PredictionModel.objects.filter(tenant=tenant).first()
        return found or PredictionModel(tenant=tenant, method="", reason="not computed yet")

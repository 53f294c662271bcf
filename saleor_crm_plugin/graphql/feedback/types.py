"""Feedback as staff see it: each rating, and a customer's summary on ``crmCustomer``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import graphene
from promise import Promise
from promise.dataloader import DataLoader

from ...feedback.models import Feedback
from ...feedback.queries import FeedbackSummary, summaries
from ...profiles.models import Profile
from ..core.context import crm_context


class CRMFeedback(graphene.ObjectType):
    id = graphene.ID(required=True)
    order_id = graphene.ID(required=True, description="Saleor Order id.")
    order_number = graphene.String(required=True)
    rating = graphene.Int(required=True, description="1 (very poor) to 5 (excellent).")
    comment = graphene.String(required=True)
    flagged = graphene.Boolean(
        required=True, description="Rated at or below CRM_FEEDBACK_FLAG_AT_OR_BELOW when saved."
    )
    source = graphene.String(required=True, description="email (the rating link) or storefront.")
    customer_id = graphene.ID(required=True, description="The CRMCustomer who gave it.")
    customer_email = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_id(root: Feedback, info: Any) -> str:
        return graphene.Node.to_global_id("CRMFeedback", root.pk)

    @staticmethod
    def resolve_customer_id(root: Feedback, info: Any) -> str:
        return graphene.Node.to_global_id("CRMCustomer", root.profile_id)

    @staticmethod
    def resolve_customer_email(root: Feedback, info: Any) -> str:
        return root.profile.email


class CRMFeedbackSummary(graphene.ObjectType):
    count = graphene.Int(required=True)
    average_rating = graphene.Float(description="Null before any feedback.")
    flagged_count = graphene.Int(required=True)
    latest = graphene.Field(CRMFeedback, description="The most recently saved.")


class FeedbackSummaryByProfileIdLoader(DataLoader):  # type: ignore[misc]
    """Feedback summaries of many customers in two queries (no N+1 in customer lists)."""

    context_key = "feedback_summary_by_profile_id"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = summaries(keys)
        empty = FeedbackSummary(count=0, average_rating=None, flagged_count=0, latest=None)
        return Promise.resolve([found.get(key, empty) for key in keys])


def feedback_summary_field() -> graphene.Field:
    return graphene.Field(
        CRMFeedbackSummary,
        required=True,
        description="The customer's ratings of their orders: count, average, newest.",
    )


def resolve_feedback_summary(root: Profile, info: Any) -> Any:
    loader = crm_context(info).loader(FeedbackSummaryByProfileIdLoader)
    return loader.load(root.pk).then(
        lambda s: CRMFeedbackSummary(
            count=s.count,
            average_rating=s.average_rating,
            flagged_count=s.flagged_count,
            latest=s.latest,
        )
    )

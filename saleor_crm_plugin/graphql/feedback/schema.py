"""Staff read feedback (``crmFeedback``); a signed-in customer rates their own order
(``crmFeedbackGive``), the same service the e-mail's rating page calls."""

from __future__ import annotations

from typing import Any

import graphene

from ...feedback import errors
from ...feedback.queries import FeedbackFilter, feedback_page
from ...feedback.services import give_feedback
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.limits import MAX_PAGE
from ..core.permissions import MANAGE_USERS, require_customer, require_permission
from ..profiles.types import CRMPageInfo
from .types import CRMFeedback


class CRMFeedbackFilterInput(graphene.InputObjectType):
    max_rating = graphene.Int(description="Only ratings at or below, e.g. 2.")
    min_rating = graphene.Int(description="Only ratings at or above.")
    flagged = graphene.Boolean(description="Only flagged (true) or unflagged (false) ones.")


class CRMFeedbackEdge(graphene.ObjectType):
    node = graphene.Field(CRMFeedback, required=True)
    cursor = graphene.String(required=True)


class CRMFeedbackCountableConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CRMFeedbackEdge), required=True)
    page_info = graphene.Field(CRMPageInfo, required=True)
    total_count = graphene.Int(required=True)


def _rating(value: int | None, field: str) -> int | None:
    if value is not None and not 1 <= value <= 5:
        raise InvalidInput(f"{field} must be between 1 and 5.", field=field)
    return value


class FeedbackQueries(graphene.ObjectType):
    crm_feedback = graphene.Field(
        CRMFeedbackCountableConnection,
        required=True,
        first=graphene.Int(default_value=20),
        after=graphene.String(),
        filter=CRMFeedbackFilterInput(),
        description="Customers' ratings of their orders, newest first. Requires MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_feedback(
        root: Any,
        info: Any,
        first: int = 20,
        after: str | None = None,
        filter: dict[str, Any] | None = None,
    ) -> CRMFeedbackCountableConnection:
        tenant = require_permission(info, MANAGE_USERS)
        if not 0 < first <= MAX_PAGE:
            raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
        data = filter or {}
        filters = FeedbackFilter(
            max_rating=_rating(data.get("max_rating"), "maxRating"),
            min_rating=_rating(data.get("min_rating"), "minRating"),
            flagged=data.get("flagged"),
        )
        try:
            page = feedback_page(tenant, filters, first=first, after=after)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="after") from exc
        return CRMFeedbackCountableConnection(
            edges=[
                CRMFeedbackEdge(node=f, cursor=c)
                for f, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=CRMPageInfo(
                has_next_page=page.has_next, end_cursor=page.cursors[-1] if page.cursors else None
            ),
            total_count=page.total,
        )


class FeedbackMutations(graphene.ObjectType):
    crm_feedback_give = graphene.Field(
        CRMFeedback,
        order_id=graphene.ID(required=True, description="Saleor Order id of one of your orders."),
        rating=graphene.Int(required=True, description="1 (very poor) to 5 (excellent)."),
        comment=graphene.String(default_value=""),
        description=(
            "The signed-in customer rates one of their orders; rating again updates it. "
            "The first rating of an order earns the feedback bonus."
        ),
    )

    @staticmethod
    def resolve_crm_feedback_give(
        root: Any, info: Any, order_id: str, rating: int, comment: str
    ) -> Any:
        tenant, user_id = require_customer(info)
        try:
            return give_feedback(
                tenant, order_id, rating, comment, source="storefront", user_id=user_id
            )
        except errors.UnknownOrder as exc:
            raise CRMGraphQLError(
                "No such order among yours.", field="orderId", code=exc.code
            ) from exc
        except errors.InvalidRating as exc:
            raise InvalidInput("rating must be from 1 to 5.", field="rating") from exc
        except errors.CommentTooLong as exc:
            raise InvalidInput(str(exc).capitalize() + ".", field="comment") from exc

"""Saving a customer's rating of an order: one row per order, the timeline and the bonus.

A rating comes from the signed link of the post-purchase e-mail or from the storefront
(``crmFeedbackGive``); both end here. Saving again (a double click, the link opened twice, a
changed mind) updates the one row: never a second row, never a second bonus.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..conf import crm_settings
from ..loyalty.ledger import grant_feedback_bonus
from ..profiles.models import OrderRecord, TimelineEntry
from ..tenants.models import Tenant
from .errors import CommentTooLong, InvalidRating, UnknownOrder
from .models import Feedback

COMMENT_MAX = 2000
EXCERPT = 280  # how much of a comment the timeline entry carries


def clean_rating(value: object) -> int:
    """A rating of 1 to 5 from a form field or an argument; InvalidRating otherwise."""
    if isinstance(value, bool):
        raise InvalidRating("the rating must be a whole number from 1 to 5")
    try:
        rating = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise InvalidRating("the rating must be a whole number from 1 to 5") from exc
    if not 1 <= rating <= 5:
        raise InvalidRating("the rating must be a whole number from 1 to 5")
    return rating


def clean_comment(value: str | None) -> str:
    comment = (value or "").replace("\x00", "").strip()
    if len(comment) > COMMENT_MAX:
        raise CommentTooLong(f"the comment is longer than {COMMENT_MAX} characters")
    return comment


def _entry(feedback: Feedback, kind: str, at: datetime, key: str) -> TimelineEntry:
    return TimelineEntry(
        tenant_id=feedback.tenant_id,
        profile_id=feedback.profile_id,
        kind=f"crm.feedback.{kind}",
        occurred_at=at,
        subject_id=feedback.order_id,
        data={
            "number": feedback.order_number,
            "rating": feedback.rating,
            "flagged": feedback.flagged,
            "comment": feedback.comment[:EXCERPT],
            "source": feedback.source,
        },
        dedupe_key=key,
    )


def give_feedback(
    tenant: Tenant,
    order_id: str,
    rating: object,
    comment: str | None = "",
    *,
    source: str = "email",
    user_id: str | None = None,
    now: datetime | None = None,
) -> Feedback:
    """Save the rating (1-5) and comment for one order of this store; returns the row.

    Atomic, and serialised per order (the order row is locked), so two clicks at once still
    make one row. The first rating of an order writes ``crm.feedback.given`` and grants the
    feedback bonus (``grant_feedback_bonus``, itself once per feedback); a later change writes
    ``crm.feedback.changed``; saving the same rating and comment again changes nothing. A
    rating at or below ``CRM_FEEDBACK_FLAG_AT_OR_BELOW`` is flagged to staff
    (``crm.feedback.flagged``). With ``user_id`` (the storefront), the order must be that
    customer's. Refusals (InvalidRating, CommentTooLong, UnknownOrder) save nothing.
    """
    score = clean_rating(rating)
    text = clean_comment(comment)
    moment = now or timezone.now()
    flagged = score <= crm_settings.FEEDBACK_FLAG_AT_OR_BELOW
    with transaction.atomic():
        order = (
            OrderRecord.objects.select_for_update()
            .filter(tenant=tenant, order_id=order_id, profile__isnull=False)
            .first()
        )
        if order is None or order.profile_id is None or order.status == "DRAFT":
            raise UnknownOrder("no such order in this store")
        if user_id is not None and order.user_id != user_id:
            raise UnknownOrder("no such order among yours")
        feedback = Feedback.objects.filter(tenant=tenant, order_id=order_id).first()
        entries: list[TimelineEntry] = []
        if feedback is None:
            feedback = Feedback.objects.create(
                tenant=tenant,
                profile_id=order.profile_id,
                order_id=order_id,
                order_number=order.number,
                rating=score,
                comment=text,
                flagged=flagged,
                source=source,
                created_at=moment,
                updated_at=moment,
            )
            entries.append(_entry(feedback, "given", moment, f"feedback.given:{order_id}"))
            if flagged:
                entries.append(_entry(feedback, "flagged", moment, f"feedback.flagged:{order_id}"))
            grant_feedback_bonus(tenant, order.profile_id, f"order:{order_id}")
        elif (feedback.rating, feedback.comment) != (score, text):
            newly_flagged = flagged and not feedback.flagged
            feedback.rating, feedback.comment, feedback.flagged = score, text, flagged
            feedback.source, feedback.updated_at = source, moment
            feedback.save(update_fields=["rating", "comment", "flagged", "source", "updated_at"])
            stamp = moment.isoformat()
            entries.append(
                _entry(feedback, "changed", moment, f"feedback.changed:{order_id}:{stamp}")
            )
            if newly_flagged:
                entries.append(
                    _entry(feedback, "flagged", moment, f"feedback.flagged:{order_id}:{stamp}")
                )
        else:
            return feedback
        TimelineEntry.objects.bulk_create(entries, ignore_conflicts=True)
    return feedback

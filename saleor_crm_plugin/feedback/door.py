"""What the rating page asks about a signed link, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from ..messaging.locales import resolve
from ..messaging.render import shop_name
from ..profiles.models import OrderRecord
from .models import Feedback
from .tokens import FeedbackToken


@dataclass(frozen=True)
class RatingPage:
    locale: str
    shop: str
    number: str
    rating: int | None  # saved before, if any
    comment: str


def page_for(token: FeedbackToken) -> RatingPage | None:
    """The order's page facts, or None when the order (or its customer) is gone."""
    order = (
        OrderRecord.objects.select_related("profile__tenant")
        .filter(tenant_id=token.tenant_id, order_id=token.order_id, profile__isnull=False)
        .first()
    )
    if order is None or order.profile is None:
        return None
    saved = Feedback.objects.filter(tenant_id=token.tenant_id, order_id=token.order_id).first()
    return RatingPage(
        locale=resolve(order.profile.language, order.channel),
        shop=shop_name(order.profile),
        number=f"#{order.number}" if order.number else "",
        rating=saved.rating if saved else None,
        comment=saved.comment if saved else "",
    )

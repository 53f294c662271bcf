from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class Feedback(models.Model):
    """A customer's rating (1-5) and optional comment on one order.

    One row per order (unique on tenant and Saleor order id): rating again updates it, so a
    double click, a second visit to the link or an edit never makes a second row or a second
    bonus. ``flagged`` is decided when the rating is saved (``CRM_FEEDBACK_FLAG_AT_OR_BELOW``),
    so staff see what was flagged then even if the threshold changes later.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="feedback")
    order_id = models.CharField(max_length=128)
    order_number = models.CharField(max_length=64, default="")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(default="", blank=True)
    flagged = models.BooleanField(default=False)
    source = models.CharField(max_length=16, default="email")  # "email" link or "storefront"
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "crm_feedback"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order_id"], name="crm_feedback_order"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="crm_feedback_rating"
            ),
        ]
        indexes = [
            # The staff list: newest first, optionally only flagged ones.
            models.Index(fields=["tenant", "-updated_at", "-id"], name="crm_feedback_recent"),
            models.Index(fields=["profile", "-updated_at"], name="crm_feedback_profile"),
        ]

from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class TrackedEvent(models.Model):
    """One storefront event from a first-party visitor id, joined to a profile when known."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    visitor_id = models.CharField(max_length=64)
    client_event_id = models.CharField(max_length=64)
    profile = models.ForeignKey(Profile, null=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=32)
    subject_id = models.CharField(max_length=128, default="")
    query = models.CharField(max_length=256, default="")
    channel = models.CharField(max_length=128, default="")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "crm_tracked_event"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "visitor_id", "client_event_id"], name="crm_tracked_event_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "visitor_id"], name="crm_tracked_visitor"),
            models.Index(fields=["profile", "-occurred_at"], name="crm_tracked_profile"),
            # Browse reminders: the recent product views of known customers, as a range.
            models.Index(
                fields=["tenant", "occurred_at"],
                condition=models.Q(kind="product_viewed", profile__isnull=False),
                name="crm_tracked_recent_views",
            ),
            models.Index(fields=["occurred_at"], name="crm_tracked_occurred"),  # retention
        ]

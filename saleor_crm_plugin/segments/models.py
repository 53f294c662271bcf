from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class CustomerScores(models.Model):
    """What the recompute concluded about one customer: RFM scores and group, quadrant,
    lifecycle stage and risk flags. Derived from the orders only (``segments/scores.py``), so
    it can be dropped and rebuilt at any time; a prospect (no purchase yet) has no scores."""

    profile = models.OneToOneField(
        Profile, on_delete=models.CASCADE, primary_key=True, related_name="scores"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    recency = models.PositiveSmallIntegerField(null=True)
    frequency = models.PositiveSmallIntegerField(null=True)
    monetary = models.PositiveSmallIntegerField(null=True)
    rfm_group = models.CharField(max_length=32)
    quadrant = models.CharField(max_length=32, default="")
    stage = models.CharField(max_length=16, default="")
    # The customer's own mean gap between purchases (days; null when they bought once and are
    # measured against the store's): what "at risk" is measured against.
    cadence_days = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    purchases = models.PositiveIntegerField(default=0)
    value_minor = models.BigIntegerField(default=0)  # spent net of refunds, base currency
    last_purchase_at = models.DateTimeField(null=True)
    refund_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    return_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    cancelled_orders = models.PositiveIntegerField(default=0)
    disputes = models.PositiveIntegerField(default=0)
    disputes_lost = models.PositiveIntegerField(default=0)
    risk_flags = ArrayField(models.CharField(max_length=32), default=list)
    # When any of the figures above last changed (an unchanged customer is not rewritten; the
    # store's last recompute is ScoreBoundaries.computed_at).
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "crm_customer_scores"
        indexes = [
            models.Index(fields=["tenant", "rfm_group"], name="crm_scores_group"),
            models.Index(fields=["tenant", "stage"], name="crm_scores_stage"),
        ]


class ScoreBoundaries(models.Model):
    """The quintile boundaries of the last full recompute, per tenant: the lowest value that
    earns each score 2..5. Incremental refreshes score with them until the next recompute."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True)
    recency = ArrayField(models.FloatField(), default=list)  # Unix seconds of last purchase
    frequency = ArrayField(models.FloatField(), default=list)
    monetary = ArrayField(models.FloatField(), default=list)
    store_cadence_days = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "crm_score_boundaries"


class LifecycleSettings(models.Model):
    """A store's own lifecycle thresholds; without a row, the ``CRM_LIFECYCLE_*`` defaults.

    In ``cadence`` mode the thresholds are multiples of the customer's mean gap between
    purchases; in ``days`` mode they are days since the last purchase, the same for everyone.
    """

    MODES = (("cadence", "cadence"), ("days", "days"))
    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True)
    mode = models.CharField(max_length=8, choices=MODES, default="cadence")
    at_risk_after = models.DecimalField(max_digits=9, decimal_places=2)
    dormant_after = models.DecimalField(max_digits=9, decimal_places=2)
    lost_after = models.DecimalField(max_digits=9, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_lifecycle_settings"


class Segment(models.Model):
    """A merchant's saved audience: JSON rules (``segments/rules.py``) whose members are
    materialised by the recompute, with when each customer joined and left."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=128)
    rules = models.JSONField()
    members_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_segment"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="crm_segment_name"),
        ]


class SegmentMember(models.Model):
    """One stay of a customer in a segment; ``left_at`` is empty while they are in it. Leaving
    and joining again makes a second row, so the history is kept."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "crm_segment_member"
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "profile"],
                condition=models.Q(left_at__isnull=True),
                name="crm_segment_member_current",
            ),
        ]
        indexes = [models.Index(fields=["profile"], name="crm_segment_member_profile")]


class StageChange(models.Model):
    """One change of a customer's lifecycle stage as the CRM stored it: from what, to what,
    when. Written by a database trigger on ``crm_customer_scores`` (migration
    ``stage_history``), so the recompute and the per-event refresh both record it, in the
    statement that changed the stage, and no other code path can forget it. ``from_stage`` is
    empty for a customer's first stage."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    from_stage = models.CharField(max_length=16, blank=True)
    to_stage = models.CharField(max_length=16, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "crm_stage_change"
        constraints = [
            # The same change is never recorded twice (the trigger inserts ON CONFLICT DO NOTHING).
            models.UniqueConstraint(
                fields=["profile", "changed_at", "from_stage", "to_stage"],
                name="crm_stage_change_once",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "changed_at"], name="crm_stage_change_tenant"),
        ]


class StageHistoryStart(models.Model):
    """From when a store's stage history is complete: its first full recompute after the
    history began to be recorded. Before it, stages over time are rebuilt from the orders."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True)
    since = models.DateTimeField()

    class Meta:
        db_table = "crm_stage_history_start"

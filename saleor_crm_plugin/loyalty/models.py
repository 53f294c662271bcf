from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class EntryKind(models.TextChoices):
    EARN = "earn"  # points of an order, pending until its return window closes
    REVERSE = "reverse"  # the refunded share of an order's earned points
    VOID = "void"  # an order cancelled: what it earned and was not reversed yet
    REDEEM = "redeem"
    EXPIRE = "expire"
    ADJUST = "adjust"  # by staff, with a reason
    BONUS = "bonus"  # sign-up, first order, birthday, referral ...


class PointsEntry(models.Model):
    """One line of a customer's points ledger; the balance is the sum of the lines.

    Append-only: a correction is a new line. (source, source id, kind) is unique per tenant, so
    the same order, refund level or redemption can never be credited or debited twice, whatever
    the inbox replays.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="points")
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    points = models.BigIntegerField()  # signed: earn and bonus positive, the rest negative
    source = models.CharField(max_length=32)  # "order", "redemption", "staff", ...
    source_id = models.CharField(max_length=191)
    created_at = models.DateTimeField()
    # When the points count as available (an order's earn: after the return window).
    available_at = models.DateTimeField()
    reason = models.TextField(default="", blank=True)
    actor = models.CharField(max_length=191, default="", blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "crm_points_entry"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "source_id", "kind"], name="crm_points_once"
            )
        ]
        indexes = [models.Index(fields=["profile", "created_at"], name="crm_points_profile")]


class TierProgram(models.Model):
    """One version of a store's tier rules; editing the rules adds a version, never rewrites one.

    ``rules`` is plain data (see ``tiers.TierRules``): the basis (spend in the base currency or
    points), the qualification window, the grace period before a downgrade, and the tiers with
    their entry and retention thresholds.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    version = models.PositiveIntegerField()
    rules = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=191, default="", blank=True)

    class Meta:
        db_table = "crm_tier_program"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="crm_tier_program_version")
        ]


class TierStatus(models.Model):
    """The tier a customer holds, since when, and since when they no longer qualify for it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.OneToOneField(Profile, on_delete=models.CASCADE, related_name="tier")
    tier = models.CharField(max_length=64)
    since = models.DateTimeField()
    below_since = models.DateTimeField(null=True, blank=True)  # the grace period's start
    program_version = models.PositiveIntegerField()

    class Meta:
        db_table = "crm_tier_status"

from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KeyTextTransform, KeyTransform

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
    HOLD = "hold"  # an order's points held while its payment is disputed (not spendable)
    RELEASE = "release"  # a won dispute gives back exactly what was held


class PointsEntry(models.Model):
    """One line of a customer's points ledger; the balance is the sum of the lines.

    Append-only: a correction is a new line. (source, source id, kind) is unique per tenant, so
    the same order, refund level or redemption can never be credited or debited twice, whatever
    the inbox replays.
    """

    # crm_points_once (tenant, ...) and crm_points_profile (profile, ...) start with them: no
    # index of their own.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, db_index=False)
    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="points", db_index=False
    )
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
        indexes = [
            models.Index(fields=["profile", "created_at"], name="crm_points_profile"),
            # A reward voucher's code: how an order that used it finds its redemption.
            models.Index(
                models.F("tenant"),
                KeyTextTransform("code", KeyTransform("voucher", "data")),
                condition=models.Q(kind="redeem", source="redemption"),
                name="crm_points_voucher_code",
            ),
            # The order an order's entries belong to: its earn (``<order>``) and its reversals
            # (``<order>@<refunded>``, ``<order>@dispute:<id>``) in one probe, so a guest order
            # that joins an account finds its entries without reading the tenant's whole ledger.
            # The planner reads no statistics of a partial index: those of its expression come
            # from ``crm_points_order_key`` (CREATE STATISTICS, migration 0035), without which
            # each lookup was costed at 0.5% of the ledger.
            models.Index(
                models.F("tenant"),
                models.Func(
                    models.F("source_id"),
                    models.Value("@"),
                    models.Value(1),
                    function="split_part",
                    output_field=models.CharField(),
                ),
                condition=models.Q(source="order"),
                name="crm_points_order",
            ),
            # The bonuses an order brought (``data.order_id``), voided when it is cancelled or
            # refunded in full: a batch's lookup reads them, not every bonus of the store.
            models.Index(
                models.F("tenant"),
                KeyTextTransform("order_id", "data"),
                condition=models.Q(kind="bonus"),
                name="crm_points_bonus_order",
            ),
        ]


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


class EarningProgram(models.Model):
    """One version of a store's earning rules, saved by staff; a save adds a version.

    ``rules`` is plain data (see ``earning.EarningRules``): points per unit of the base or of a
    channel currency, the bonuses, the return window, expiry and the rewards. An order earns by
    the version in force when it was placed (``created_at`` of the version on or before the
    order's), so versions are never rewritten. A store without a version uses the ``CRM_``
    settings.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    version = models.PositiveIntegerField()
    rules = models.JSONField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=191, default="", blank=True)

    class Meta:
        db_table = "crm_earning_program"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "version"], name="crm_earning_program_version"
            )
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


class ReferralCode(models.Model):
    """A customer's own code, shared as a link with friends."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.OneToOneField(Profile, on_delete=models.CASCADE, related_name="referral_code")
    code = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "crm_referral_code"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="crm_referral_code_unique")
        ]


class ReferralStatus(models.TextChoices):
    CLAIMED = "claimed"  # the friend came through the link; no qualifying order yet
    REWARDED = "rewarded"  # the friend's first order earned both rewards
    REFUSED = "refused"  # self-referral or abuse; the reason is kept


class Referral(models.Model):
    """A friend who arrived with an advocate's code; at most one live referral per friend."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    advocate = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="referrals")
    friend_email = models.CharField(max_length=320)
    status = models.CharField(max_length=16, choices=ReferralStatus.choices)
    reason = models.CharField(max_length=64, default="", blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    order_id = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "crm_referral"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "friend_email"],
                condition=~models.Q(status="refused"),
                name="crm_referral_one_per_friend",
            )
        ]
        indexes = [models.Index(fields=["tenant", "ip", "created_at"], name="crm_referral_ip")]


class Birthday(models.Model):
    """A customer's birthday, given by the customer themselves, for the birthday bonus.

    Personal data: deleted with the profile. Set once by the customer (so it cannot be moved to
    collect the bonus again); staff can correct it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.OneToOneField(Profile, on_delete=models.CASCADE, related_name="birthday")
    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    set_at = models.DateTimeField()

    class Meta:
        db_table = "crm_birthday"

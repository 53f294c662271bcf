from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.expressions import RawSQL

from ..tenants.models import Tenant


class Profile(models.Model):
    """One customer of one tenant, keyed by Saleor user id, or by e-mail for a guest.

    Aggregates (counts, spend, channels ...) are derived from ``OrderRecord`` rows by one
    set-based statement (``profiles/aggregates.py``), never incremented, so replays and
    out-of-order deliveries cannot double-count.
    """

    # No index of its own: crm_profile_email (tenant, email) starts with it, and every index
    # of a table the applier writes costs an insert per row written.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="profiles", db_index=False
    )
    user_id = models.CharField(max_length=128, null=True, blank=True)
    email = models.CharField(max_length=320, default="")
    first_name = models.CharField(max_length=256, default="")
    last_name = models.CharField(max_length=256, default="")
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    customer_language = models.CharField(max_length=16, default="")
    customer_country = models.CharField(max_length=2, default="")
    # E.164 (+4915112345678), from the account's default billing (else shipping) address; SMS
    # and WhatsApp go here. A database default too: identity.py inserts profiles in raw SQL.
    phone = models.CharField(max_length=20, default="", db_default="", blank=True)
    customer_updated_at = models.DateTimeField(null=True, blank=True)
    customer_issued_at = models.DateTimeField(null=True, blank=True)

    # Derived, in minor units of ``tenant.base_currency`` unless named otherwise.
    language = models.CharField(max_length=16, default="")
    country = models.CharField(max_length=2, default="")
    time_zone = models.CharField(max_length=64, default="")
    orders_count = models.PositiveIntegerField(default=0)
    cancelled_orders_count = models.PositiveIntegerField(default=0)
    # Purchases Saleor marks (partly) returned: the return rate, read by the nightly scoring.
    returned_orders_count = models.PositiveIntegerField(default=0, db_default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    spent_gross_minor = models.BigIntegerField(default=0)
    spent_net_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    average_order_minor = models.BigIntegerField(default=0)
    refund_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    totals_by_currency = models.JSONField(default=dict)
    channels = ArrayField(models.CharField(max_length=128), default=list)
    payment_methods = ArrayField(models.CharField(max_length=128), default=list)
    categories = ArrayField(models.CharField(max_length=255), default=list)
    products = ArrayField(models.CharField(max_length=255), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_profile"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user_id"],
                condition=models.Q(user_id__isnull=False),
                name="crm_profile_user",
            ),
            # One guest profile per e-mail; registered profiles are keyed by user id instead.
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(user_id__isnull=True),
                name="crm_profile_guest_email",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "email"], name="crm_profile_email"),
            # Who sent "STOP": inbound SMS and WhatsApp name the customer by phone only.
            models.Index(
                fields=["tenant", "phone"], condition=~models.Q(phone=""), name="crm_profile_phone"
            ),
        ]

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


class OrderRecord(models.Model):
    """The newest known state of one Saleor order, with its FX rate fixed at order time."""

    # Neither has an index of its own: crm_order_unique (tenant, order_id) and crm_order_profile
    # (profile, created_at) start with them; each index costs an insert per row written.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, db_index=False)
    profile = models.ForeignKey(
        Profile, null=True, on_delete=models.SET_NULL, related_name="orders", db_index=False
    )
    order_id = models.CharField(max_length=128)
    number = models.CharField(max_length=64, default="")
    user_id = models.CharField(max_length=128, null=True)
    email = models.CharField(max_length=320, default="")
    channel = models.CharField(max_length=128, default="")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, default="")
    language = models.CharField(max_length=16, default="")
    country = models.CharField(max_length=2, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    issued_at = models.DateTimeField()
    total_gross_minor = models.BigIntegerField()
    total_net_minor = models.BigIntegerField()
    charged_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    fx_rate = models.DecimalField(max_digits=30, decimal_places=16)
    base_currency = models.CharField(max_length=3)
    total_gross_base_minor = models.BigIntegerField()
    total_net_base_minor = models.BigIntegerField()
    refunded_base_minor = models.BigIntegerField(default=0)
    payment_methods = ArrayField(models.CharField(max_length=128), default=list)
    lines = models.JSONField(default=list)
    checkout_id = models.CharField(max_length=128, null=True)
    # The voucher code entered on the order, and the CRM's reward redemption that issued it
    # (linked when the code is one of ours): how the order page shows the points spent on it.
    voucher_code = models.CharField(max_length=255, null=True, blank=True)
    redemption = models.ForeignKey(
        "saleor_crm_plugin.PointsEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # the partial unique constraint below indexes it
    )
    # HMACs of the shipping address and the cards paid with (profiles/fingerprints.py), for
    # referral abuse checks; the address and card details themselves are not kept.
    address_key = models.CharField(max_length=64, default="", blank=True)
    payment_keys = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    # PSP references of its payments (Saleor's Stripe app and plugin record the PaymentIntent
    # id): how a Stripe refund or dispute finds its order. Only grows.
    # A database default too: the set-based upsert does not name this column.
    psp_references = ArrayField(
        models.CharField(max_length=191),
        default=list,
        db_default=RawSQL("'{}'::varchar(191)[]", ()),
        blank=True,
    )

    class Meta:
        db_table = "crm_order"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order_id"], name="crm_order_unique"),
            # A single-use reward is spent on one order, whatever the inbox replays.
            models.UniqueConstraint(
                fields=["redemption"],
                condition=models.Q(redemption__isnull=False),
                name="crm_order_redemption_once",
            ),
        ]
        indexes = [
            models.Index(fields=["profile", "created_at"], name="crm_order_profile"),
            models.Index(fields=["tenant", "user_id"], name="crm_order_user"),
            models.Index(fields=["tenant", "email"], name="crm_order_email"),
            # Orders changed lately (the post-purchase e-mail's scan, feedback/requests.py).
            models.Index(fields=["tenant", "updated_at"], name="crm_order_updated"),
            # Orders of a period (segment rules such as "spent in the last 90 days"): an
            # index-only scan reads the period's orders and nothing else.
            models.Index(
                fields=["tenant", "created_at"],
                include=["profile", "status", "total_gross_base_minor", "refunded_base_minor"],
                name="crm_order_period",
            ),
            GinIndex(fields=["psp_references"], name="crm_order_psp"),
        ]


class CheckoutRecord(models.Model):
    """The newest known state of a checkout, kept because Saleor deletes old checkouts."""

    # crm_checkout_unique (tenant, checkout_id) starts with it: no index of its own.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, db_index=False)
    profile = models.ForeignKey(
        Profile, null=True, on_delete=models.SET_NULL, related_name="checkouts"
    )
    checkout_id = models.CharField(max_length=128)
    token = models.CharField(max_length=64, default="")
    user_id = models.CharField(max_length=128, null=True)
    email = models.CharField(max_length=320, default="")
    channel = models.CharField(max_length=128, default="")
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=16, default="")
    country = models.CharField(max_length=2, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    issued_at = models.DateTimeField()
    total_gross_minor = models.BigIntegerField(default=0)
    lines = models.JSONField(default=list)
    paid_at = models.DateTimeField(null=True)
    completed_order_id = models.CharField(max_length=128, null=True)

    class Meta:
        db_table = "crm_checkout"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "checkout_id"], name="crm_checkout_unique"),
        ]
        indexes = [
            models.Index(fields=["tenant", "email"], name="crm_checkout_email"),
            # Abandoned-cart candidates: a range of recent changes among uncompleted checkouts.
            models.Index(
                fields=["tenant", "updated_at"],
                condition=models.Q(completed_order_id__isnull=True),
                name="crm_checkout_open",
            ),
        ]


class TimelineEntry(models.Model):
    """One thing that happened to a customer; ``dedupe_key`` makes replays add nothing."""

    # crm_timeline_dedupe (tenant, ...) and crm_timeline_profile (profile, ...) start with
    # them: no index of their own.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, db_index=False)
    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="timeline", db_index=False
    )
    kind = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    subject_id = models.CharField(max_length=128, default="")
    data = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=255)

    class Meta:
        db_table = "crm_timeline"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "dedupe_key"], name="crm_timeline_dedupe"),
        ]
        indexes = [models.Index(fields=["profile", "-occurred_at"], name="crm_timeline_profile")]


class DeletedCustomer(models.Model):
    """A customer Saleor deleted, or erased on request: late or replayed events must not bring
    the profile back.

    Keeps the Saleor user id (an opaque key), a salted hash of the e-mail (so guest activity from
    before the deletion, arriving late, is not attached to anyone) and when it happened.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    user_id = models.CharField(max_length=128)
    email_hash = models.CharField(max_length=64, default="")
    deleted_at = models.DateTimeField()
    # Why: ``saleor_deleted`` when Saleor deleted the customer, else the staff member's reason
    # for an erasure on request, and who asked (a Saleor user id or app).
    reason = models.CharField(max_length=255, default="", blank=True)
    actor = models.CharField(max_length=191, default="", blank=True)

    class Meta:
        db_table = "crm_deleted_customer"
        indexes = [models.Index(fields=["tenant", "email_hash"], name="crm_deleted_email")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user_id"], name="crm_deleted_customer_unique"
            ),
        ]


class PendingScrub(models.Model):
    """Stored bodies still to be searched for a deleted customer's e-mails and user ids.

    Searching reads every stored body of the store (0.35 s for 8,000 bodies; more with a longer
    retention), so a deletion applied by the inbox queues it here, in the batch's transaction,
    and a task of its own runs it after commit (``traces.scrub_pending``): the store's other
    deliveries do not wait behind it. Queued in the database, not in the broker's message, so
    the addresses are never in the broker and a lost message only delays the scrub until the
    inbox sweep runs it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    emails = ArrayField(models.TextField(), default=list)
    user_ids = ArrayField(models.TextField(), default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "crm_pending_scrub"

from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class StripeAccount(models.Model):
    """A tenant's own Stripe account: one app deployment serves several Saleors, each paid
    through its own Stripe. Both secrets are Fernet-encrypted like the app token; never logged."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="stripe_account")
    api_key_encrypted = models.TextField(default="", blank=True)
    webhook_secret_encrypted = models.TextField(default="", blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=191, default="", blank=True)

    class Meta:
        db_table = "crm_stripe_account"


class StripeCharge(models.Model):
    """What Stripe says was refunded on one charge, in the charge currency's ISO minor units.

    Stripe's ``amount_refunded`` is cumulative and only grows, so keeping the largest value seen
    makes any delivery order end in the same state. Linked to an order through the order's PSP
    references (the PaymentIntent id Saleor's Stripe integrations record), at read time, so a
    refund arriving before its order still counts once the order is known.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    charge_id = models.CharField(max_length=64)
    payment_intent = models.CharField(max_length=64, default="", blank=True)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_stripe_charge"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "charge_id"], name="crm_stripe_charge_once")
        ]
        indexes = [models.Index(fields=["tenant", "payment_intent"], name="crm_stripe_charge_pi")]


class DisputeStage(models.TextChoices):
    OPEN = "open"  # points of the order are held
    WON = "won"  # the hold is released
    LOST = "lost"  # the held points stay taken


class StripeDispute(models.Model):
    """The furthest state we know of one dispute; it only moves forward (open < won/lost), so
    a ``created`` arriving after ``closed`` changes nothing."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    dispute_id = models.CharField(max_length=64)
    charge_id = models.CharField(max_length=64)
    payment_intent = models.CharField(max_length=64, default="", blank=True)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(default=0)
    status = models.CharField(max_length=32)  # Stripe's own status, for staff
    stage = models.CharField(max_length=8, choices=DisputeStage.choices)
    event_created = models.BigIntegerField()  # Stripe's event ``created`` (Unix seconds)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_stripe_dispute"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "dispute_id"], name="crm_stripe_dispute_once")
        ]


class Membership(models.Model):
    """A paid membership: one Stripe subscription holding a customer in a tier while it runs.

    Stripe delivers events in any order; the row keeps the newest (event created, status rank)
    seen, and a terminal status (canceled, incomplete_expired) is never left again, as in Stripe.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="memberships")
    subscription_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64, default="", blank=True)
    price_id = models.CharField(max_length=64, default="", blank=True)
    tier = models.CharField(max_length=64)
    status = models.CharField(max_length=32)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    event_created = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_membership"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "subscription_id"], name="crm_membership_subscription"
            )
        ]
        indexes = [models.Index(fields=["profile", "status"], name="crm_membership_profile")]

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from ..messaging.models import Message
from ..profiles.models import Profile
from ..tenants.models import Tenant


class FlowStatus(models.TextChoices):
    ACTIVE = "active"  # steps still to come
    FINISHED = "finished"  # every step went out; an order may still be attributed to it
    STOPPED = "stopped"  # ended early: ordered before any reminder, emptied cart, unsubscribed
    RECOVERED = "recovered"  # an order followed a reminder within the attribution window


class FlowKind(models.TextChoices):
    CHECKOUT = "checkout"  # an abandoned cart
    BROWSE = "browse"  # products viewed, nothing put in a cart or bought


class RecoveryFlow(models.Model):
    """One customer's recovery of an abandoned cart, with a snapshot of that cart.

    A customer has at most one active flow, whatever number of checkouts or devices they use:
    the flow follows their newest cart. The snapshot is kept because Saleor deletes old
    checkouts, and the step schedule is copied from the channel's settings when the flow starts,
    so changing the settings never reshuffles reminders already planned.

    A browse flow (viewed products, no cart) uses the same rows with the viewed products as
    its lines; it gives way to a cart: a checkout reminder always takes precedence.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="recoveries")
    kind = models.CharField(max_length=16, choices=FlowKind.choices, default=FlowKind.CHECKOUT)
    checkout_id = models.CharField(max_length=128)  # empty for a browse flow
    channel = models.CharField(max_length=128, default="")
    currency = models.CharField(max_length=3)
    lines = models.JSONField(default=list)
    total_gross_minor = models.BigIntegerField(default=0)
    checkout_updated_at = models.DateTimeField()  # the cart's last change: steps count from it
    delays_hours = ArrayField(models.PositiveIntegerField())
    step = models.PositiveSmallIntegerField(default=0)  # the next step to send, 0-based
    next_due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=FlowStatus.choices)
    stop_reason = models.CharField(max_length=32, default="", blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    recovered_order_id = models.CharField(max_length=128, null=True, blank=True)
    recovered_step = models.PositiveSmallIntegerField(null=True, blank=True)
    recovered_minor = models.BigIntegerField(null=True, blank=True)
    recovered_base_minor = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "crm_recovery_flow"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "profile"],
                condition=models.Q(status="active"),
                name="crm_recovery_one_active",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_due_at"],
                condition=models.Q(status="active"),
                name="crm_recovery_due",
            ),
            models.Index(fields=["profile", "checkout_updated_at"], name="crm_recovery_profile"),
        ]


class RecoveryStep(models.Model):
    """A reminder of a flow: when it was due and when it actually went out.

    ``sent_at`` stays empty while the message waits for the customer's send window; revenue is
    attributed only to reminders that really reached the customer.
    """

    flow = models.ForeignKey(RecoveryFlow, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    enqueued_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, default="queued")  # queued, sent, skipped
    reason = models.CharField(max_length=64, default="", blank=True)
    # The outbox message that carries it; its ``sent_at`` is when the reminder went out.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The step's personal discount, when the channel gives one: the code is derived from the
    # flow and step (recovery/discounts.py), so a retried step asks Saleor for the same voucher.
    discount_code = models.CharField(max_length=32, default="", blank=True)
    voucher_id = models.CharField(max_length=128, default="", blank=True)
    discount_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_recovery_step"
        constraints = [
            models.UniqueConstraint(fields=["flow", "step"], name="crm_recovery_step_once")
        ]

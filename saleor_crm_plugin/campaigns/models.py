from __future__ import annotations

from django.db import models

from ..messaging.models import Message
from ..profiles.models import Profile
from ..segments.models import Segment
from ..tenants.models import Tenant


class CampaignStatus(models.TextChoices):
    DRAFT = "draft"  # editable; nothing decided about who gets it
    SCHEDULED = "scheduled"  # launched: audience taken, first wave not yet due
    SENDING = "sending"  # waves are being released into the outbox
    DONE = "done"  # every wave of every step is in the outbox
    CANCELLED = "cancelled"  # stopped: waves not yet released never will be


class TargetKind(models.TextChoices):
    SEGMENT = "segment"  # a custom segment's current members
    RFM_GROUP = "rfm_group"  # customers in an RFM group (``segments/groups.py``)
    STAGE = "stage"  # customers at a lifecycle stage


class Campaign(models.Model):
    """A broadcast to an audience: one or more steps (a warm-up sequence is several), each
    released in waves of at most ``wave_size`` recipients every ``wave_minutes``, so a
    campaign never floods support and logistics in one hour.

    The audience is a snapshot taken at launch (``CampaignRecipient``), so a customer who
    joins the segment later gets nothing and everyone in it gets every step.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=128)
    target_kind = models.CharField(max_length=16, choices=TargetKind.choices)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_value = models.CharField(max_length=32, default="", blank=True)  # group or stage
    store_channel = models.CharField(max_length=128, default="", blank=True)  # Saleor channel
    channel = models.CharField(max_length=16, default="email")  # how it travels
    wave_size = models.PositiveIntegerField(null=True, blank=True)  # None: all at once
    wave_minutes = models.PositiveIntegerField(default=60)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    audience_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_campaign"
        indexes = [models.Index(fields=["tenant", "-created_at"], name="crm_campaign_tenant")]


class CampaignStep(models.Model):
    """One message of a campaign, with its send time and its content per locale
    (``{"de-at": {"subject": ..., "body": ...}, "de": ..., "en": ...}``).

    ``next_release_at`` is when its next wave is due (empty once all are released or the
    campaign is cancelled); the periodic release is a range scan of its partial index.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()  # 1, 2, 3 ...
    send_at = models.DateTimeField()
    content = models.JSONField(default=dict)
    waves_total = models.PositiveIntegerField(default=0)
    waves_released = models.PositiveIntegerField(default=0)
    next_release_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_campaign_step"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="crm_campaign_step_once")
        ]
        indexes = [
            models.Index(
                fields=["next_release_at"],
                condition=models.Q(next_release_at__isnull=False),
                name="crm_campaign_step_due",
            )
        ]


class CampaignRecipient(models.Model):
    """One customer of the audience snapshot, with the wave they belong to."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    wave = models.PositiveIntegerField()

    class Meta:
        db_table = "crm_campaign_recipient"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "profile"], name="crm_campaign_recipient_once"
            )
        ]
        indexes = [models.Index(fields=["campaign", "wave"], name="crm_campaign_recipient_wave")]


class CampaignMessage(models.Model):
    """A step released to a recipient: the outbox message that carries it (its status, reason
    and ``sent_at`` are the truth about delivery). Unique per step and customer: each
    recipient gets each step once."""

    step = models.ForeignKey(CampaignStep, on_delete=models.CASCADE, related_name="messages")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    wave = models.PositiveIntegerField()

    class Meta:
        db_table = "crm_campaign_message"
        constraints = [
            models.UniqueConstraint(fields=["step", "profile"], name="crm_campaign_message_once")
        ]

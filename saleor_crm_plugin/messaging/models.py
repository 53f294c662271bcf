from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class Medium(models.TextChoices):
    """How a message travels; each has its adapter in ``messaging/adapters.py``."""

    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class Purpose(models.TextChoices):
    MARKETING = "marketing"  # needs consent, waits for the send window and the frequency cap
    TRANSACTIONAL = "transactional"  # goes out when due


class Status(models.TextChoices):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender until ``claimed_at`` + the lease
    SENT = "sent"
    SKIPPED = "skipped"  # no consent, suppressed address, no address: with the reason
    FAILED = "failed"  # the SMTP server refused it for good, or attempts ran out


class Message(models.Model):
    """One message in the outbox, from the moment a flow decides to send it until it is sent or
    skipped, with the reason.

    ``dedupe_key`` is unique per tenant, so a flow step enqueued twice (a replayed event, a
    task run twice) is one message. "Due now" is an index range scan on the partial index over
    queued rows, so the senders' cost does not grow with the messages already sent.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=16, default="email")  # how it travels
    store_channel = models.CharField(max_length=128, default="", blank=True)  # Saleor channel
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    kind = models.CharField(max_length=64)  # the template, e.g. "abandoned_checkout"
    locale = models.CharField(max_length=16)
    context = models.JSONField(default=dict, blank=True)  # plain data the template formats
    dedupe_key = models.CharField(max_length=191)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=64, default="", blank=True)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, default="", blank=True)
    last_error = models.TextField(default="", blank=True)

    class Meta:
        db_table = "crm_message"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "dedupe_key"], name="crm_message_once"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="queued"),
                name="crm_message_due",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="crm_message_claimed",
            ),
            # The frequency cap: this customer's newest marketing messages.
            models.Index(
                fields=["profile", "-due_at"],
                condition=models.Q(purpose="marketing", status__in=["queued", "sending", "sent"]),
                name="crm_message_cap",
            ),
            # Retention: finished messages, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status__in=["sent", "skipped", "failed"]),
                name="crm_message_finished",
            ),
        ]


class SuppressionReason(models.TextChoices):
    BOUNCE = "bounce"  # a hard bounce: the address does not exist
    COMPLAINT = "complaint"  # marked as spam
    UNSUBSCRIBE = "unsubscribe"
    STOP = "stop"  # the customer texted STOP (or the carrier says they did: Twilio 21610)


class Suppression(models.Model):
    """An address we never e-mail again, kept as a salted hash (we need not keep the address
    to recognise it)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    address_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "crm_suppression"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "address_hash"], name="crm_suppression_unique"
            ),
        ]


class ChannelAccount(models.Model):
    """A store's SMS (Twilio) and WhatsApp (Meta Cloud API) credentials. Secrets are encrypted
    with ``tenants.crypto`` like the Saleor app token: a database dump alone must not let
    anyone text the store's customers."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    twilio_account_sid = models.CharField(max_length=64, default="", blank=True)
    twilio_auth_token_encrypted = models.TextField(default="", blank=True)
    twilio_from = models.CharField(max_length=32, default="", blank=True)  # E.164 number
    twilio_messaging_service_sid = models.CharField(max_length=64, default="", blank=True)
    whatsapp_phone_number_id = models.CharField(max_length=64, default="", blank=True)
    whatsapp_token_encrypted = models.TextField(default="", blank=True)
    whatsapp_app_secret_encrypted = models.TextField(default="", blank=True)
    whatsapp_verify_token_encrypted = models.TextField(default="", blank=True)
    updated_by = models.CharField(max_length=191, default="", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_channel_account"

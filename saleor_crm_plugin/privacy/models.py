from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class Purpose(models.TextChoices):
    MARKETING_EMAIL = "marketing_email"
    MARKETING_SMS = "marketing_sms"
    MARKETING_WHATSAPP = "marketing_whatsapp"
    BEHAVIOUR_TRACKING = "behaviour_tracking"
    PROFILING = "profiling"


class Source(models.TextChoices):
    CHECKOUT = "checkout"  # the box at checkout
    ACCOUNT = "account"  # the customer's account page
    IMPORT = "import"
    STAFF = "staff"
    UNSUBSCRIBE = "unsubscribe"  # the link in an e-mail
    CONFIRMATION = "confirmation"  # the double opt-in link
    CUSTOMER = "customer"  # the customer's own reply: "STOP" or "START" by SMS or WhatsApp


class Action(models.TextChoices):
    GRANT = "grant"
    CONFIRM = "confirm"  # the second step of a double opt-in
    WITHDRAW = "withdraw"


class ConsentEntry(models.Model):
    """One line of the consent ledger: a grant, a confirmation or a withdrawal.

    Append-only, so the ledger answers "what had this customer agreed to, in which words, when"
    for any moment (what a data protection authority asks). The current state is the newest
    line per (profile, purpose, channel); ``privacy.services.has_consent`` reads it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    # The store's Saleor channel the consent was given for ("" for every channel).
    channel = models.CharField(max_length=128, default="", blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    jurisdiction = models.CharField(max_length=2, default="", blank=True)  # ISO country
    source = models.CharField(max_length=16, choices=Source.choices)
    wording_version = models.CharField(max_length=64, default="", blank=True)
    # A grant under double opt-in counts only once a confirmation follows it.
    needs_confirmation = models.BooleanField(default=False)
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=191, default="", blank=True)

    class Meta:
        db_table = "crm_consent_entry"
        indexes = [
            models.Index(
                fields=["profile", "purpose", "channel", "-occurred_at", "-id"],
                name="crm_consent_current",
            )
        ]

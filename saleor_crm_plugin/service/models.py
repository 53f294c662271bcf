"""Shared knowledge about a customer: staff notes, tags and service cases."""

from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class Note(models.Model):
    """A staff member's note on a customer. The author is who the token named (a staff user
    id and e-mail, or an app), kept so support knows whom to ask."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField()
    author_user_id = models.CharField(max_length=128, default="", blank=True)
    author_email = models.CharField(max_length=320, default="", blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "crm_note"
        indexes = [models.Index(fields=["profile", "-created_at"], name="crm_note_profile")]


class Tag(models.Model):
    """A label staff put on a customer ("vip", "wholesale"), once per customer, with who and
    when. Stored lower-case so "VIP" and "vip" are one tag in search and segment rules."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=64)
    added_by_user_id = models.CharField(max_length=128, default="", blank=True)
    added_by_email = models.CharField(max_length=320, default="", blank=True)
    added_at = models.DateTimeField()

    class Meta:
        db_table = "crm_tag"
        constraints = [
            models.UniqueConstraint(fields=["profile", "tag"], name="crm_tag_once"),
        ]
        indexes = [models.Index(fields=["tenant", "tag"], name="crm_tag_tenant")]


class CaseType(models.TextChoices):
    COMPLAINT = "complaint"
    RETURN = "return"
    QUESTION = "question"
    OTHER = "other"


class CaseStatus(models.TextChoices):
    OPEN = "open"
    WAITING = "waiting"  # on the customer or a third party; still open for marketing holds
    RESOLVED = "resolved"
    CLOSED = "closed"


# A case in one of these is "open": it holds the customer out of marketing and counts as open.
OPEN_STATUSES = (CaseStatus.OPEN.value, CaseStatus.WAITING.value)


class ServiceCase(models.Model):
    """One after-sales matter (a complaint, a return, a question) from opening to resolution.

    ``resolved_at`` is set when the case first reaches resolved or closed and cleared when it
    is reopened, so time to resolve is measured to the last resolution.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="cases")
    type = models.CharField(max_length=16, choices=CaseType.choices)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    subject = models.CharField(max_length=200)
    description = models.TextField(default="", blank=True)
    order_id = models.CharField(max_length=128, default="", blank=True)  # Saleor's order id
    assignee_user_id = models.CharField(max_length=128, default="", blank=True)
    assignee_email = models.CharField(max_length=320, default="", blank=True)
    opened_by = models.CharField(max_length=16)  # "staff", "app" or "customer"
    opened_by_user_id = models.CharField(max_length=128, default="", blank=True)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    due_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_case"
        indexes = [
            models.Index(fields=["profile", "-opened_at"], name="crm_case_profile"),
            # Open cases: the marketing hold looks a customer up here on every enqueue.
            models.Index(
                fields=["tenant", "profile"],
                condition=models.Q(status__in=["open", "waiting"]),
                name="crm_case_open",
            ),
            models.Index(fields=["tenant", "resolved_at"], name="crm_case_resolved"),
        ]

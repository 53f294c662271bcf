from __future__ import annotations

from django.db import models

from ..tenants.models import Tenant


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored (nothing the CRM uses)"
    FAILED = "failed", "Failed (kept; reprocess after a fix)"


class Delivery(models.Model):
    """One event as it arrived, stored before anything else (like dj-stripe's trigger table).

    Saleor sends no event id, so the unique (tenant, event, body hash) key is what makes a
    retried or replayed delivery a no-op. A delivery whose signature verified is never dropped:
    if its content cannot be used, ``state`` is FAILED with the reason, and it can be reprocessed.
    """

    # No index of its own: the dedupe key leads with the tenant, and every delivery stored or
    # applied wrote one index entry more for nothing.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    source = models.CharField(max_length=16, default="webhook")
    event = models.CharField(max_length=64)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    body_hash = models.CharField(max_length=64)
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=64, default="", blank=True)
    error_message = models.TextField(default="", blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_inbox_delivery"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "event", "body_hash"], name="crm_inbox_delivery_dedupe"
            )
        ]
        indexes = [
            # Claiming scans only what is pending, however large the processed history grows.
            models.Index(
                fields=["id"],
                name="crm_inbox_pending",
                condition=models.Q(state="pending"),
            ),
            # /health and every /metrics scrape count the backlog: read what waits, never the
            # processed history (a full scan took 0.9 s at 2M rows). It also finds a store's
            # failed deliveries. No index covers every state: a delivery changes state when
            # applied, and such an update writes a new entry in every index whose condition
            # the row meets (one more per delivery for an index of all states).
            models.Index(
                fields=["state", "received_at"],
                name="crm_inbox_lag",
                condition=models.Q(state__in=["pending", "failed"]),
            ),
            # Retention: bodies of applied rows not emptied yet, oldest first.
            models.Index(
                fields=["received_at"],
                name="crm_inbox_unscrubbed",
                condition=models.Q(state__in=["processed", "ignored"]) & ~models.Q(body=b""),
            ),
        ]

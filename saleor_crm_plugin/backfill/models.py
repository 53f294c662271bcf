from __future__ import annotations

from django.db import models

from ..tenants.models import Tenant


class BackfillCursor(models.Model):
    """Where a backfill of one resource stopped, saved with the page it stored (resumable)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    resource = models.CharField(max_length=32)
    after = models.TextField(default="", blank=True)
    done = models.BooleanField(default=False)
    fetched = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_backfill_cursor"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "resource"], name="crm_backfill_cursor_unique"
            )
        ]

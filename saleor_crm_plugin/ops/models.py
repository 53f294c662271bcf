from __future__ import annotations

from django.db import models


class Counter(models.Model):
    """A monotonically increasing count of something that leaves no row of its own elsewhere:
    a webhook rejected before it was stored, a task that failed or was retried.

    Kept in PostgreSQL (not in process memory) so every web process and worker adds to the same
    number and a restart loses nothing; ``labels`` is the canonical ``k="v",...`` string the
    metrics endpoint prints as is.
    """

    name = models.CharField(max_length=64)
    labels = models.CharField(max_length=255, default="", blank=True)
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_ops_counter"
        constraints = [
            models.UniqueConstraint(fields=["name", "labels"], name="crm_ops_counter_key")
        ]

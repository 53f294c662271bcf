from __future__ import annotations

from django.db import models


class FxRate(models.Model):
    """One exchange rate with the period it is valid for.

    ``rate`` is units of ``currency`` per one unit of ``base`` (the ECB convention: 1 EUR =
    4.25 PLN). A rate is looked up at the order's time and then stored on the order, so loading
    newer or corrected rates never moves history.
    """

    base = models.CharField(max_length=3)
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=24, decimal_places=10)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=64, default="")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "crm_fx_rate"
        constraints = [
            models.UniqueConstraint(
                fields=["base", "currency", "valid_from"], name="crm_fx_rate_unique"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="crm_fx_rate_positive"),
        ]
        indexes = [models.Index(fields=["currency", "valid_from"], name="crm_fx_currency_from")]

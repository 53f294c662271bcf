from __future__ import annotations

from django.db import models

from ..tenants.models import Tenant


class Product(models.Model):
    """A product's newest known name and category, from the lines Saleor sent us."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    product_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255, default="")
    slug = models.CharField(max_length=255, default="")
    category_slug = models.CharField(max_length=255, default="")
    category_name = models.CharField(max_length=255, default="")
    seen_at = models.DateTimeField()

    class Meta:
        db_table = "crm_product"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product_id"], name="crm_product_unique")
        ]

from __future__ import annotations

from django.db import models

from ..profiles.models import Profile
from ..tenants.models import Tenant


class PredictionModel(models.Model):
    """The store's last prediction fit: which method, its parameters and the data behind it.
    ``method`` is ``bgnbd`` (BG/NBD + Gamma-Gamma) or ``heuristic`` (too little history; see
    docs/predictions.md); ``reason`` says why the heuristic was used."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True)
    method = models.CharField(max_length=16)
    reason = models.CharField(max_length=255, default="", blank=True)
    r = models.FloatField(null=True)
    alpha = models.FloatField(null=True)  # days
    a = models.FloatField(null=True)
    b = models.FloatField(null=True)
    p = models.FloatField(null=True)
    q = models.FloatField(null=True)
    gamma = models.FloatField(null=True)  # base currency, minor units
    customers = models.PositiveIntegerField(default=0)
    repeat_customers = models.PositiveIntegerField(default=0)
    history_days = models.FloatField(default=0)
    store_gap_days = models.FloatField(null=True)
    # Store figures the scoring needs besides the parameters, so one customer can be rescored
    # between fits (predictions/rescore.py): the store's mean order value (minor units) and
    # its repeat purchases per customer-day. Null on fits older than per-event rescoring.
    store_value = models.FloatField(null=True)
    store_rate = models.FloatField(null=True)
    fitted_at = models.DateTimeField()

    class Meta:
        db_table = "crm_prediction_model"


class CustomerPrediction(models.Model):
    """Per customer with a purchase: when they will probably order next, how likely they are
    gone, and what they will probably spend in the next 12 months (base currency). Derived
    from the orders by the recompute, so it can be dropped and rebuilt at any time."""

    profile = models.OneToOneField(
        Profile, on_delete=models.CASCADE, primary_key=True, related_name="prediction"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    method = models.CharField(max_length=16)
    churn_risk = models.FloatField()  # 0..1: 1 - P(still a customer)
    expected_orders_12m = models.FloatField()
    expected_order_value_minor = models.BigIntegerField()
    value_12m_minor = models.BigIntegerField()
    next_order_at = models.DateTimeField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "crm_customer_prediction"
        indexes = [models.Index(fields=["tenant", "churn_risk"], name="crm_prediction_churn")]


class ProductPair(models.Model):
    """Products often bought together: ``other`` appears in ``orders`` of the purchases that
    contain ``product``; confidence = orders / orders with ``product``; lift = confidence /
    share of purchases with ``other``. Rebuilt by the recompute."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    product_id = models.CharField(max_length=128)
    other_id = models.CharField(max_length=128)
    orders = models.PositiveIntegerField()
    confidence = models.FloatField()
    lift = models.FloatField()

    class Meta:
        db_table = "crm_product_pair"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product_id", "other_id"], name="crm_product_pair_unique"
            )
        ]


class CategoryAffinity(models.Model):
    """A customer's leaning towards a category: the share of their purchases with a line in
    it (a stroller bought -> the baby category). Top few per customer; rebuilt by the recompute."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    category_slug = models.CharField(max_length=255)
    orders = models.PositiveIntegerField()
    share = models.FloatField()

    class Meta:
        db_table = "crm_category_affinity"
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "category_slug"], name="crm_category_affinity_unique"
            )
        ]
        indexes = [models.Index(fields=["tenant"], name="crm_category_affinity_tenant")]


class CategoryBestseller(models.Model):
    """The most bought products of each category over the last year (what a category
    affinity recommends). Rebuilt by the recompute."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    category_slug = models.CharField(max_length=255)
    product_id = models.CharField(max_length=128)
    orders = models.PositiveIntegerField()
    rank = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "crm_category_bestseller"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "category_slug", "product_id"], name="crm_bestseller_unique"
            )
        ]

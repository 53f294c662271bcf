from __future__ import annotations

from django.db import models


class Tenant(models.Model):
    """One Saleor instance (keyed by its API URL) and everything the CRM keeps for it.

    The in-process plugin uses a single tenant whose ``saleor_api_url`` is the host's own.
    """

    saleor_api_url = models.URLField(max_length=500, unique=True)
    saleor_domain = models.CharField(max_length=255, default="")
    app_token_encrypted = models.TextField(default="", help_text="Fernet-encrypted; never logged.")
    base_currency = models.CharField(max_length=3)
    jwks = models.JSONField(default=dict, blank=True)
    jwks_url = models.URLField(max_length=500, default="", blank=True)
    jwks_fetched_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # The merchant's CRM settings as Saleor's plugin form keeps them ([{"name", "value"}]): the
    # plugin copies them here when saved, so tasks read one place in both doors.
    settings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_tenant"

    def __str__(self) -> str:
        return self.saleor_api_url

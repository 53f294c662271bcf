"""The standalone project's Celery app; inside Saleor, Saleor's own app picks up our tasks."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")

app = Celery("saleor_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["saleor_crm_plugin"])

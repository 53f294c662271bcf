import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
application = get_asgi_application()

from ..webhooks.door import SaleorWebhookDoor  # noqa: E402
from .celery import app as celery_app  # noqa: E402,F401  (tasks publish through the project app)

# What `saleor-crm serve` runs: Saleor's webhooks on the async door, the rest on Django.
serve_application = SaleorWebhookDoor(application)

import os

from django.core.asgi import get_asgi_application
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
application = get_asgi_application()

from ..webhooks.door import SaleorWebhookDoor  # noqa: E402
from .celery import app as celery_app  # noqa: E402,F401  (tasks publish through the project app)

# What `saleor-crm serve` runs: Saleor's webhooks on the async door, the rest on Django.
# uvicorn's proxy-header middleware (which `serve` turns off for this app) wraps Django only:
# the door never reads the client's address, and parsing it cost every webhook a few percent
# of its CPU. Django still sees the forwarded address (referral claims, tracking), trusting
# the same proxies uvicorn would (FORWARDED_ALLOW_IPS, default 127.0.0.1).
serve_application = SaleorWebhookDoor(
    ProxyHeadersMiddleware(
        application,  # type: ignore[arg-type]
        trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )
)

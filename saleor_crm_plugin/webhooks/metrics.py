"""``GET /metrics``: the Prometheus scrape target, in the app and under the plugin's route."""

from __future__ import annotations

import hmac

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from ..conf import crm_settings
from ..ops.metrics import collect, render

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _authorized(request: HttpRequest) -> bool:
    token = crm_settings.METRICS_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """401 without the configured token; 503 when the database cannot be read, so the scrape
    shows as failed (``up == 0``) instead of reporting zeros."""
    if not _authorized(request):
        response = HttpResponse("bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="crm-metrics"'
        return response
    try:
        body = render(collect())
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse(body, content_type=CONTENT_TYPE)

"""``GET /health``: what a load balancer and an operator need to know, answered quickly."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ..conf import crm_settings
from ..inbox.queries import inbox_lag


def _broker() -> str:
    if crm_settings.INBOX_DISPATCH != "celery":
        return "not used"
    from ..inbox.tasks import drain_inbox

    try:
        with drain_inbox.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception:  # any transport error means the same to an operator
        return "unreachable"
    return "ok"


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when deliveries can be accepted (the database answers), else 503.

    A broker that is down does not make us unhealthy: deliveries are still stored and the
    sweep applies them later; it shows up here and as growing inbox lag.
    """
    body: dict[str, Any] = {"broker": _broker()}
    try:
        lag = inbox_lag()
    except DatabaseError:
        body["database"] = "unreachable"
        return JsonResponse(body, status=503)
    body["database"] = "ok"
    body["inbox"] = {
        "pending": lag.pending,
        "failed": lag.failed,
        "oldest_pending_seconds": round(lag.oldest_pending_seconds, 1),
    }
    return JsonResponse(body)

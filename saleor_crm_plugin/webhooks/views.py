"""The app door: thin views that turn Saleor's requests into one service call each.

Status codes matter to Saleor: it retries after 5xx (for about five minutes) and never after a
4xx. So 4xx is only for requests that must never come back (a forged signature, an unknown
Saleor), and anything transient (database down, JWKS unreachable) is a 503.
"""

from __future__ import annotations

import json
import logging

from django.db import DatabaseError, DataError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from opentelemetry import trace

from ..conf import crm_settings
from ..inbox.dispatch import request_drain
from ..inbox.services import accept
from ..ops.counters import increment
from ..ops.tracing import tracer
from ..tenants.errors import NotAllowed
from ..tenants.models import Tenant
from ..tenants.saleor_api import SaleorUnavailable, TokenRejected, verify_app_token
from ..tenants.services import (
    check_allowed,
    recent_tenant_for_api_url,
    register_tenant,
    tenant_for_api_url,
)
from .signature import JWKSUnavailable, SignatureError, verify_signature

logger = logging.getLogger(__name__)

TOO_LARGE = "webhook body exceeds the configured limit"
# A DataError (SQLSTATE class 22: a NUL in a text, a value too long) will fail the same way on
# every retry, so it is a 400, never the 503 that would make the sender retry for days.
UNSTORABLE = "the delivery cannot be stored as sent (a NUL character or a field too long)"


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"success": False, "error": {"code": code, "message": message}}, status=status
    )


def _base_url(request: HttpRequest) -> str:
    return crm_settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    from .manifest import build_manifest

    return JsonResponse(build_manifest(_base_url(request)))


@csrf_exempt
@require_POST
def register(request: HttpRequest) -> JsonResponse:
    """Saleor posts the app token here when a merchant installs the app.

    The token is checked against that Saleor's API before it is stored, so nobody can replace
    a store's token with a made-up one.
    """
    api_url = request.headers.get("Saleor-Api-Url", "")
    if not api_url:
        return _error(400, "MISSING_SALEOR_API_URL", "Saleor-Api-Url header is required")
    try:
        payload = json.loads(request.body or b"{}")
        token = payload.get("auth_token") if isinstance(payload, dict) else None
    except ValueError:
        token = None
    if not isinstance(token, str) or not token:
        return _error(400, "MISSING_AUTH_TOKEN", "body must be JSON with auth_token")
    try:
        check_allowed(api_url)
        if crm_settings.VERIFY_APP_TOKEN:
            verify_app_token(api_url, token)
        register_tenant(
            api_url=api_url, app_token=token, domain=request.headers.get("Saleor-Domain", "")
        )
    except NotAllowed as exc:
        return _error(403, "SALEOR_URL_NOT_ALLOWED", str(exc))
    except TokenRejected as exc:
        return _error(401, "TOKEN_REJECTED", str(exc))
    except SaleorUnavailable as exc:
        return _error(503, "SALEOR_UNAVAILABLE", str(exc))
    except DatabaseError:
        logger.exception("could not store the app token")
        return _error(503, "UNAVAILABLE", "try again")
    return JsonResponse({"success": True})


def _read_capped(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is larger than we accept (read at most one byte past)."""
    cap = crm_settings.MAX_WEBHOOK_BODY_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        return None
    body = request.read(cap + 1)
    return None if len(body) > cap else body


def reject(source: str, reason: str, status: int, code: str, message: str) -> JsonResponse:
    """Refuse a delivery and count it (``crm_webhook_deliveries_rejected_total``): rejected
    deliveries leave no inbox row, so this counter is the only trace an operator gets."""
    increment("crm_webhook_deliveries_rejected_total", {"source": source, "reason": reason})
    logger.info(
        "webhook rejected: %s",
        reason,
        extra={"source": source, "reason": reason, "outcome": "rejected"},
    )
    trace.get_current_span().set_attribute("crm.outcome", f"rejected:{reason}")
    return _error(status, code, message)


def _verified_tenant(api_url: str, signature: str, body: bytes) -> Tenant | None:
    """The tenant that signed ``body``; raises ``SignatureError`` when it did not.

    The tenant comes from this process's short memory first; a 401 is final for Saleor, so
    before refusing, the tenant is read again in case its keys or installation changed since.
    """
    tenant = recent_tenant_for_api_url(api_url)
    if tenant is None:
        return None
    try:
        verify_signature(tenant, signature, body)
    except SignatureError:
        tenant = tenant_for_api_url(api_url)
        if tenant is None:
            return None
        verify_signature(tenant, signature, body)
    return tenant


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store, answer. Applying the delivery happens in a task, never here."""
    with tracer.start_as_current_span(
        "crm.webhook.accept", kind=trace.SpanKind.SERVER, attributes={"crm.source": "saleor"}
    ) as span:
        return _webhook(request, span)


def _webhook(request: HttpRequest, span: trace.Span) -> HttpResponse:
    body = _read_capped(request)
    if body is None:
        return reject("saleor", "oversized", 413, "BODY_TOO_LARGE", TOO_LARGE)
    event = request.headers.get("Saleor-Event", "").strip().lower()
    api_url = request.headers.get("Saleor-Api-Url", "")
    span.set_attribute("crm.event", event[:64])
    if not event or not api_url:
        return reject(
            "saleor",
            "malformed",
            400,
            "MISSING_HEADERS",
            "Saleor-Event and Saleor-Api-Url are required",
        )
    try:
        tenant = _verified_tenant(api_url, request.headers.get("Saleor-Signature", ""), body)
        if tenant is None:
            return reject(
                "saleor",
                "unknown_tenant",
                401,
                "UNKNOWN_SALEOR",
                "this Saleor has not installed the app",
            )
        span.set_attribute("crm.tenant_id", tenant.pk)
        with transaction.atomic():
            accepted = accept(tenant, event=event, body=body, headers=dict(request.headers))
            request_drain(tenant.pk)
    except SignatureError as exc:
        return reject("saleor", "signature", 401, "INVALID_SIGNATURE", str(exc))
    except DataError:
        return reject("saleor", "malformed", 400, "MALFORMED_EVENT", UNSTORABLE)
    except (JWKSUnavailable, DatabaseError) as exc:
        logger.warning(
            "webhook not stored, asking Saleor to retry: %s",
            type(exc).__name__,
            extra={"source": "saleor", "event": event[:64], "outcome": "unavailable"},
        )
        span.set_attribute("crm.outcome", "unavailable")
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    span.set_attribute("crm.outcome", "duplicate" if accepted.duplicate else "accepted")
    return JsonResponse({"success": True, "duplicate": accepted.duplicate})

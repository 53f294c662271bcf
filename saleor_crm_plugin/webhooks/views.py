"""The app door: thin views that turn Saleor's requests into one service call each.

Status codes matter to Saleor: it retries after 5xx (for about five minutes) and never after a
4xx. So 4xx is only for requests that must never come back (a forged signature, an unknown
Saleor), and anything transient (database down, JWKS unreachable) is a 503 (``delivery.py``).
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
from ..ops.tracing import tracer
from ..tenants.errors import NotAllowed
from ..tenants.saleor_api import SaleorUnavailable, TokenRejected, verify_app_token
from ..tenants.services import check_allowed, register_tenant
from . import delivery
from .signature import JWKSUnavailable, SignatureError

logger = logging.getLogger(__name__)


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
    if delivery.declared_too_large(request.headers.get("Content-Length")):
        return None
    cap = crm_settings.MAX_WEBHOOK_BODY_BYTES
    body = request.read(cap + 1)
    return None if len(body) > cap else body


def _respond(answer: delivery.Answer) -> JsonResponse:
    return JsonResponse(answer.payload, status=answer.status)


def reject(source: str, reason: str, status: int, code: str, message: str) -> JsonResponse:
    """Refuse a delivery and count it (``delivery.reject``)."""
    return _respond(delivery.reject(source, reason, status, code, message))


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store, answer. Applying the delivery happens in a task, never here.

    ``saleor-crm serve`` answers this route with its async door (``webhooks/door.py``) and
    the same functions; this view serves plugin mode and any other deployment."""
    with tracer.start_as_current_span(
        delivery.SPAN_NAME, kind=trace.SpanKind.SERVER, attributes={"crm.source": "saleor"}
    ) as span:
        return _respond(_webhook(request, span))


def _webhook(request: HttpRequest, span: trace.Span) -> delivery.Answer:
    body = _read_capped(request)
    if body is None:
        return delivery.too_large()
    found = delivery.event_and_api_url(request.headers)
    if found is None:
        return delivery.missing_headers()
    event, api_url = found
    try:
        signature = request.headers.get("Saleor-Signature", "")
        tenant = delivery.verified_tenant(api_url, signature, body)
        if tenant is None:
            return delivery.unknown_tenant()
        span.set_attribute("crm.tenant_id", tenant.pk)
        with transaction.atomic():
            accepted = accept(tenant, event=event, body=body, headers=dict(request.headers))
            request_drain(tenant.pk)
    except SignatureError as exc:
        return delivery.bad_signature(exc)
    except DataError:
        return delivery.unstorable()
    except (JWKSUnavailable, DatabaseError) as exc:
        return delivery.unavailable(exc, event)
    return delivery.stored(accepted.duplicate)

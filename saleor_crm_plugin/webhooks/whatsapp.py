"""The WhatsApp door: ``api/whatsapp/<tenant id>/webhook`` for Meta's Cloud API webhooks.

GET is Meta's verification handshake: it sends ``hub.mode=subscribe``, the verify token the
merchant typed in Meta's app dashboard and a ``hub.challenge`` we echo back. POST carries
messages and statuses, signed in ``X-Hub-Signature-256`` with the app secret; an unsigned or
forged request gets 403 and changes nothing. Meta retries on non-2xx; the verbs are idempotent.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..messaging.accounts import credentials
from ..messaging.inbound import handle_reply, meta_signature_valid, record_failure
from ..tenants.models import Tenant
from .views import _error, _read_capped

logger = logging.getLogger(__name__)


def _at(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def _text(message: dict[str, Any]) -> str:
    """A typed reply or a tapped quick-reply button ("Stop promotions" buttons send STOP)."""
    if message.get("type") == "text":
        return str((message.get("text") or {}).get("body") or "")
    if message.get("type") == "button":
        return str((message.get("button") or {}).get("text") or "")
    return ""


def apply(tenant_id: int, payload: Any) -> None:
    """Every STOP/START reply and every failed status in one webhook delivery."""
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            for message in value.get("messages") or []:
                if isinstance(message, dict):
                    # Recorded when it reached us, not at Meta's whole-second timestamp: a
                    # STOP must not sort before a grant made in the same second.
                    handle_reply(tenant_id, "whatsapp", str(message.get("from") or ""),
                                 _text(message), timezone.now())  # fmt: skip
            for status in value.get("statuses") or []:
                if isinstance(status, dict) and status.get("status") == "failed":
                    errors = status.get("errors") or [{}]
                    code = str((errors[0] or {}).get("code") or "")
                    record_failure(tenant_id, "whatsapp", str(status.get("id") or ""), code,
                                   _at(status.get("timestamp")))  # fmt: skip


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, tenant_id: int) -> HttpResponse:
    try:
        tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
        found = credentials(tenant.pk) if tenant else None
    except DatabaseError:
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        expected = found.whatsapp_verify_token if found else ""
        if (
            request.GET.get("hub.mode") == "subscribe"
            and expected
            and hmac.compare_digest(token, expected)
        ):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return _error(403, "INVALID_VERIFY_TOKEN", "the verify token does not match")
    body = _read_capped(request)
    if body is None:
        return _error(413, "BODY_TOO_LARGE", "webhook body exceeds the configured limit")
    secret = found.whatsapp_app_secret if found else ""
    if not meta_signature_valid(body, request.headers.get("X-Hub-Signature-256", ""), secret):
        return _error(403, "INVALID_SIGNATURE", "not signed with this store's app secret")
    try:
        payload = json.loads(body)
    except ValueError:
        return _error(400, "MALFORMED_EVENT", "body is not JSON")
    try:
        apply(tenant_id, payload)
    except DatabaseError as exc:
        logger.warning("whatsapp webhook not applied, asking Meta to retry: %s", exc)
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    return HttpResponse("", status=200)

"""The WhatsApp door: ``api/whatsapp/<tenant id>/webhook`` for Meta's Cloud API webhooks.

GET is Meta's verification handshake: it sends ``hub.mode=subscribe``, the verify token the
merchant typed in Meta's app dashboard and a ``hub.challenge`` we echo back. POST carries
messages and statuses, signed in ``X-Hub-Signature-256`` with the app secret; an unsigned or
forged request gets 403 and is not kept. A signed one is stored in the inbox (deduplicated by
its bytes) and applied by the drain (``inbox/channels.py``); 503 makes Meta retry.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.db import DatabaseError, DataError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..inbox.channels import WHATSAPP_SOURCE
from ..inbox.dispatch import request_drain
from ..inbox.services import accept
from ..messaging.accounts import credentials
from ..messaging.inbound import meta_signature_valid
from ..tenants.models import Tenant
from .delivery import TOO_LARGE, UNSTORABLE
from .views import _error, _read_capped, reject

logger = logging.getLogger(__name__)


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
        return reject("whatsapp", "oversized", 413, "BODY_TOO_LARGE", TOO_LARGE)
    signature = request.headers.get("X-Hub-Signature-256", "")
    if tenant is None or found is None:
        return reject(
            "whatsapp",
            "signature",
            403,
            "INVALID_SIGNATURE",
            "not signed with this store's app secret",
        )
    if not meta_signature_valid(body, signature, found.whatsapp_app_secret):
        return reject(
            "whatsapp",
            "signature",
            403,
            "INVALID_SIGNATURE",
            "not signed with this store's app secret",
        )
    try:
        json.loads(body)
    except ValueError:
        return reject("whatsapp", "malformed", 400, "MALFORMED_EVENT", "body is not JSON")
    try:
        with transaction.atomic():
            accept(tenant, event="whatsapp.webhook", body=body,
                   headers={"X-Hub-Signature-256": signature}, source=WHATSAPP_SOURCE)  # fmt: skip
            request_drain(tenant.pk)
    except DataError:
        return reject("whatsapp", "malformed", 400, "MALFORMED_EVENT", UNSTORABLE)
    except DatabaseError as exc:
        logger.warning("whatsapp webhook not stored, asking Meta to retry: %s", type(exc).__name__)
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    return HttpResponse("", status=200)

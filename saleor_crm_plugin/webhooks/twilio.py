"""The Twilio door: ``api/twilio/<tenant id>/sms`` takes incoming SMS and status callbacks.

Set it in Twilio's console as the number's (or Messaging Service's) "A message comes in" webhook;
the outbox also names it as each message's StatusCallback. Twilio signs with the account's auth
token over the exact URL it called, so behind a proxy ``CRM_PUBLIC_URL`` must be the address
Twilio uses. A request not signed by the store's account gets 403 and is not kept. A signed one
is stored in the inbox (deduplicated by its bytes: Twilio's retries repeat them) and applied by
the drain (``inbox/channels.py``); a 503 when it cannot be stored makes Twilio retry.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from django.db import DatabaseError, DataError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..conf import crm_settings
from ..inbox.channels import TWILIO_SOURCE
from ..inbox.dispatch import request_drain
from ..inbox.services import accept
from ..messaging.accounts import credentials
from ..messaging.inbound import twilio_signature_valid
from ..tenants.models import Tenant
from .delivery import TOO_LARGE, UNSTORABLE
from .views import _error, _read_capped, reject

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _called_url(request: HttpRequest) -> str:
    if crm_settings.PUBLIC_URL:
        return crm_settings.PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


@csrf_exempt
@require_POST
def sms(request: HttpRequest, tenant_id: int) -> HttpResponse:
    body = _read_capped(request)
    if body is None:
        return reject("twilio", "oversized", 413, "BODY_TOO_LARGE", TOO_LARGE)
    try:
        tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
        token = credentials(tenant.pk).twilio_auth_token if tenant else ""
    except DatabaseError:
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    signature = request.headers.get("X-Twilio-Signature", "")
    if tenant is None or not twilio_signature_valid(_called_url(request), params, signature, token):
        return reject(
            "twilio",
            "signature",
            403,
            "INVALID_SIGNATURE",
            "not signed by this store's Twilio account",
        )
    kind = "twilio.sms" if "Body" in dict(params) else "twilio.status"
    try:
        with transaction.atomic():
            accept(tenant, event=kind, body=body, headers={"X-Twilio-Signature": signature},
                   source=TWILIO_SOURCE)  # fmt: skip
            request_drain(tenant.pk)
    except DataError:
        return reject("twilio", "malformed", 400, "MALFORMED_EVENT", UNSTORABLE)
    except DatabaseError as exc:
        logger.warning("twilio webhook not stored, asking Twilio to retry: %s", type(exc).__name__)
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")

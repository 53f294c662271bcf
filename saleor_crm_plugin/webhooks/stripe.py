"""The Stripe door: one endpoint per tenant, ``api/stripe/<tenant id>/webhooks``.

One deployment serves several Saleors, each paid through its own Stripe account, so the URL
names the tenant and the tenant's signing secret verifies the request. Stripe retries any
non-2xx answer for days, so a 400 is kept for what can never succeed (a forged or stale
signature, a body that is not an event) and a 503 for what may succeed later (the database).
"""

from __future__ import annotations

import json
import logging
import time

import stripe
from django.db import DatabaseError, DataError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from opentelemetry import trace

from ..conf import crm_settings
from ..inbox.dispatch import request_drain
from ..inbox.services import accept
from ..inbox.stripe import STRIPE_SOURCE
from ..ops.tracing import tracer
from ..payments.accounts import credentials
from ..tenants.models import Tenant
from .delivery import TOO_LARGE, UNSTORABLE
from .views import _error, _read_capped, reject

logger = logging.getLogger(__name__)


class StripeSignatureError(Exception):
    """Not signed by the tenant's Stripe account, or signed too far from now: keep nothing."""


def verify_stripe_signature(
    body: bytes, header: str, secret: str, *, tolerance: int, now: float | None = None
) -> None:
    """Raise ``StripeSignatureError`` unless ``header`` is a v1 HMAC-SHA256 of "t.body" with
    ``secret`` and ``t`` is within ``tolerance`` seconds of ``now``, in the past or the future.

    stripe 3.5's ``WebhookSignature`` checks the HMAC and rejects old timestamps only; a
    timestamp in the future would let a captured request be replayed later, so we refuse it too.
    """
    if not header:
        raise StripeSignatureError("missing Stripe-Signature header")
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StripeSignatureError("body is not UTF-8, so Stripe did not sign it") from exc
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret)
        timestamp, _ = stripe.WebhookSignature._get_timestamp_and_signatures(header, "v1")
    except stripe.error.SignatureVerificationError as exc:
        raise StripeSignatureError(str(exc).split(":")[0]) from exc
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance:
        raise StripeSignatureError(f"signature timestamp is more than {tolerance} s from now")


def parse_event(body: bytes) -> dict:
    """The event's id, type and created, checked; ValueError says what is wrong."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"body is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise ValueError("body is not a Stripe event object")
    if not isinstance(event.get("id"), str) or not event["id"]:
        raise ValueError("event has no id")
    if not isinstance(event.get("type"), str) or not event["type"]:
        raise ValueError("event has no type")
    if not isinstance(event.get("created"), int):
        raise ValueError("event has no created timestamp")
    if not isinstance((event.get("data") or {}).get("object"), dict):
        raise ValueError("event has no data.object")
    return event


def receive(tenant: Tenant | None, body: bytes | None, signature: str) -> JsonResponse:
    """Verify, store (deduplicated by Stripe's event id), answer; applied by the inbox."""
    with tracer.start_as_current_span(
        "crm.webhook.accept", kind=trace.SpanKind.SERVER, attributes={"crm.source": "stripe"}
    ) as span:
        return _receive(tenant, body, signature, span)


def _receive(
    tenant: Tenant | None, body: bytes | None, signature: str, span: trace.Span
) -> JsonResponse:
    if body is None:
        return reject("stripe", "oversized", 413, "BODY_TOO_LARGE", TOO_LARGE)
    if tenant is None:
        return reject("stripe", "unknown_tenant", 404, "UNKNOWN_TENANT", "no such store")
    span.set_attribute("crm.tenant_id", tenant.pk)
    try:
        secret = credentials(tenant).webhook_secret
    except DatabaseError:
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    if not secret:
        return reject(
            "stripe",
            "not_configured",
            400,
            "STRIPE_NOT_CONFIGURED",
            "no Stripe webhook signing secret is set",
        )
    try:
        verify_stripe_signature(
            body, signature, secret, tolerance=crm_settings.STRIPE_WEBHOOK_TOLERANCE
        )
    except StripeSignatureError as exc:
        return reject("stripe", "signature", 400, "INVALID_SIGNATURE", str(exc))
    try:
        event = parse_event(body)
    except ValueError as exc:
        return reject("stripe", "malformed", 400, "MALFORMED_EVENT", str(exc))
    span.set_attribute("crm.event", f"stripe.{event['type']}"[:64])
    try:
        with transaction.atomic():
            accepted = accept(
                tenant,
                event=f"stripe.{event['type']}",
                body=body,
                headers={"Stripe-Signature": signature},
                source=STRIPE_SOURCE,
                dedupe_key=f"stripe:{event['id']}",
            )
            request_drain(tenant.pk)
    except DataError:
        return reject("stripe", "malformed", 400, "MALFORMED_EVENT", UNSTORABLE)
    except DatabaseError as exc:
        logger.warning("stripe event not stored, asking Stripe to retry: %s", type(exc).__name__)
        span.set_attribute("crm.outcome", "unavailable")
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    span.set_attribute("crm.outcome", "duplicate" if accepted.duplicate else "accepted")
    return JsonResponse({"success": True, "duplicate": accepted.duplicate})


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, tenant_id: int) -> HttpResponse:
    body = _read_capped(request)
    try:
        tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    except DatabaseError:
        return _error(503, "UNAVAILABLE", "temporarily unavailable, retry")
    return receive(tenant, body, request.headers.get("Stripe-Signature", ""))

"""What a Saleor delivery gets from either door: the Django view (plugin mode, any WSGI or ASGI
deployment) and the async door of ``saleor-crm serve`` (``webhooks/door.py``).

Both turn the outside world into the same calls and the same answers, so they share these plain
functions: header checks, the body cap, verification, the answers with their error codes, the
rejection counter, the span attributes and the structured logs. Only reading the request and
writing the response differ between the doors.

Status codes matter to Saleor: it retries after 5xx (for about five minutes) and never after a
4xx. So 4xx is only for requests that must never come back (a forged signature, an unknown
Saleor), and anything transient (database down, JWKS unreachable) is a 503.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace

from ..conf import crm_settings
from ..ops.counters import increment
from ..tenants.models import Tenant
from ..tenants.services import recent_tenant_for_api_url, remembered_tenant, tenant_for_api_url
from .signature import SignatureError, verify_signature

logger = logging.getLogger(__name__)

SOURCE = "saleor"
SPAN_NAME = "crm.webhook.accept"
TOO_LARGE = "webhook body exceeds the configured limit"
# A DataError (SQLSTATE class 22: a NUL in a text, a value too long) will fail the same way on
# every retry, so it is a 400, never the 503 that would make the sender retry for days.
UNSTORABLE = "the delivery cannot be stored as sent (a NUL character or a field too long)"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as status and JSON payload; each door writes it its own way."""

    status: int
    payload: dict[str, Any]

    @functools.cached_property
    def body(self) -> bytes:
        """The payload as JSON, encoded once per answer (the two answers of a stored delivery
        are shared: every accepted delivery writes one of them)."""
        return json.dumps(self.payload).encode()


def error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"success": False, "error": {"code": code, "message": message}})


def reject(source: str, reason: str, status: int, code: str, message: str) -> Answer:
    """Refuse a delivery and count it (``crm_webhook_deliveries_rejected_total``): rejected
    deliveries leave no inbox row, so this counter is the only trace an operator gets.
    Writes the counter to the database: call it from synchronous code."""
    increment("crm_webhook_deliveries_rejected_total", {"source": source, "reason": reason})
    logger.info(
        "webhook rejected: %s",
        reason,
        extra={"source": source, "reason": reason, "outcome": "rejected"},
    )
    trace.get_current_span().set_attribute("crm.outcome", f"rejected:{reason}")
    return error(status, code, message)


def too_large() -> Answer:
    return reject(SOURCE, "oversized", 413, "BODY_TOO_LARGE", TOO_LARGE)


def missing_headers() -> Answer:
    return reject(
        SOURCE, "malformed", 400, "MISSING_HEADERS", "Saleor-Event and Saleor-Api-Url are required"
    )


def unknown_tenant() -> Answer:
    return reject(
        SOURCE, "unknown_tenant", 401, "UNKNOWN_SALEOR", "this Saleor has not installed the app"
    )


def bad_signature(exc: SignatureError) -> Answer:
    return reject(SOURCE, "signature", 401, "INVALID_SIGNATURE", str(exc))


def unstorable() -> Answer:
    return reject(SOURCE, "malformed", 400, "MALFORMED_EVENT", UNSTORABLE)


def unavailable(exc: BaseException, event: str) -> Answer:
    """The delivery was not stored for a reason that passes (database, JWKS): Saleor retries."""
    logger.warning(
        "webhook not stored, asking Saleor to retry: %s",
        type(exc).__name__,
        extra={"source": SOURCE, "event": event[:64], "outcome": "unavailable"},
    )
    trace.get_current_span().set_attribute("crm.outcome", "unavailable")
    return error(503, "UNAVAILABLE", "temporarily unavailable, retry")


_STORED = {dup: Answer(200, {"success": True, "duplicate": dup}) for dup in (False, True)}


def stored(duplicate: bool) -> Answer:
    trace.get_current_span().set_attribute("crm.outcome", "duplicate" if duplicate else "accepted")
    return _STORED[duplicate]


def declared_too_large(content_length: str | None, cap: int | None = None) -> bool:
    """Whether the declared length alone exceeds the cap (then the body is not read at all).
    ``cap`` is the setting, passed in by a caller that has read it already."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        declared = 0
    return declared > (crm_settings.MAX_WEBHOOK_BODY_BYTES if cap is None else cap)


def event_and_api_url(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """The ``Saleor-Event`` (normalized) and ``Saleor-Api-Url`` headers, None unless both are
    present; records the event on the current span."""
    event = headers.get("Saleor-Event", "").strip().lower()
    api_url = headers.get("Saleor-Api-Url", "")
    trace.get_current_span().set_attribute("crm.event", event[:64])
    if not event or not api_url:
        return None
    return event, api_url


def header_dict(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as Django's ``request.headers`` holds them (title-cased names, repeated
    headers joined by commas, names with underscores dropped), so an inbox row holds the same
    headers whichever door stored it."""
    joined: dict[str, list[str]] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin1").lower()
        if "_" in name:  # Django drops these too (no spoofing through "_" vs "-")
            continue
        joined.setdefault(name.title(), []).append(raw_value.decode("latin1"))
    return {name: ",".join(values) for name, values in joined.items()}


def verified_tenant(api_url: str, signature: str, body: bytes) -> Tenant | None:
    """The tenant that signed ``body``; raises ``SignatureError`` when it did not.

    The tenant comes from this process's short memory first; a 401 is final for Saleor, so
    before refusing, the tenant is read again in case its keys or installation changed since.
    Reads the database: call it from synchronous code.
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


def verified_without_database(
    api_url: str, signature: str, body: bytes, *, stale: bool = False
) -> Tenant | None:
    """The remembered tenant when it signed ``body`` with a key it already holds, else None
    (then ``verified_tenant`` decides). Never reads the database, never refuses anyone: the
    async door settles almost every delivery here, on its event loop. With ``stale``, a
    tenant remembered longer than the delay counts too: the caller must revalidate it
    (``tenants.services.still_current``) before storing anything for it."""
    tenant = remembered_tenant(api_url, stale=stale)
    if tenant is None:
        return None
    try:
        verify_signature(tenant, signature, body, refetch=False)
    except SignatureError:
        return None
    return tenant

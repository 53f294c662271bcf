"""What every plugin hook does, apart from Saleor's plugin class (testable without Saleor)."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import DatabaseError, close_old_connections, connection, transaction

from ..conf import crm_settings
from ..inbox.dispatch import request_drain
from ..inbox.services import accept, accept_many
from ..ops.tracing import tracer
from ..tenants.services import PLUGIN_TENANT_URL, plugin_tenant, recent_tenant_for_api_url
from ..tenants.store_settings import StoreSettings, parse
from .events import delivery_body
from .spool import Held, spool

logger = logging.getLogger(__name__)


# The hook events of the request under way, stored together when it ends (``_end_request``);
# None outside a request (a Celery task, a command), where each hook stores its own event.
_batch: ContextVar[list[Held] | None] = ContextVar("crm_plugin_batch", default=None)


def record_hook(hook: str, obj: Any, settings: StoreSettings | None = None) -> bool:
    """Take what Saleor just told us for the inbox; never raise into Saleor's request.

    Saleor runs hooks inside its request and does not catch their exceptions, so a failure here
    must not fail the mutation, and a slow CRM database must not slow it. The event is read
    from Saleor's object now (its state at this moment). During a request it joins the
    request's batch, stored with one insert when the request ends (``checkoutComplete`` fires
    five hooks: one round trip set instead of five); elsewhere it is stored now. A store may
    wait ``CRM_PLUGIN_HOOK_TIMEOUT_MS`` at most; whatever fails is kept in the spool and stored
    once the fault clears. Returns True when stored or batched. Orders and checkouts of a
    channel the merchant switched off are not recorded; customers belong to no channel.
    """
    with tracer.start_as_current_span(
        "crm.webhook.accept", attributes={"crm.source": "plugin", "crm.event": hook}
    ) as span:
        try:
            settings = settings or parse(None)
            channel = getattr(getattr(obj, "channel", None), "slug", None)
            if not settings.for_channel(channel).enabled:
                span.set_attribute("crm.outcome", "channel_off")
                return False
            item = Held(hook, obj, settings)
        except Exception as exc:  # a hook must never fail Saleor's mutation
            _log_failure(hook, exc, span)
            return False
        try:
            item.event, item.body = delivery_body(hook, obj)
            if spool.database_failing:  # an outage is under way: do not wait for it again
                spool.hold(item, database_failed=True)
                span.set_attribute("crm.outcome", "held")
                return False
            batch = _batch.get()
            if batch is not None:
                if connection.in_atomic_block:
                    # Saleor calls its hooks after commit; one called inside a transaction
                    # counts only if that transaction commits, as an insert in it would.
                    transaction.on_commit(lambda: batch.append(item))
                else:
                    batch.append(item)
                span.set_attribute("crm.outcome", "batched")
                return True
            duplicate = store(item, timeout_ms=crm_settings.PLUGIN_HOOK_TIMEOUT_MS)
            span.set_attribute("crm.outcome", "duplicate" if duplicate else "accepted")
            return True
        except Exception as exc:  # kept for later; the mutation goes on
            _log_failure(hook, exc, span)
            spool.hold(item, database_failed=isinstance(exc, DatabaseError))
            return False


def _start_request(**kwargs: Any) -> None:
    """A request begins: its hooks' events wait for its end. A batch left by a request whose
    end never came (none should be) is stored first rather than dropped."""
    left = _batch.get()
    _batch.set([])
    if left:
        flush(left)


def _end_request(**kwargs: Any) -> None:
    """The request ended (its response is built; servers send ``request_finished`` after the
    last byte went out): store its hooks' events. A request that failed after Saleor
    committed ends here too, so what Saleor committed is not lost."""
    items = _batch.get()
    _batch.set(None)
    if items:
        flush(items)


def flush(items: list[Held]) -> bool:
    """Store a request's events with one insert; never raises. What cannot be stored within
    ``CRM_PLUGIN_HOOK_TIMEOUT_MS`` goes to the spool, so a slow database costs one bound per
    request at most, and none while the outage is known."""
    with tracer.start_as_current_span(
        "crm.webhook.accept", attributes={"crm.source": "plugin", "crm.count": len(items)}
    ) as span:
        if spool.database_failing:
            for item in items:
                spool.hold(item, database_failed=True)
            span.set_attribute("crm.outcome", "held")
            return False
        try:
            store_many(items, timeout_ms=crm_settings.PLUGIN_HOOK_TIMEOUT_MS)
        except Exception as exc:  # kept for later, event by event
            _log_failure(",".join(item.hook for item in items), exc, span)
            for item in items:
                spool.hold(item, database_failed=isinstance(exc, DatabaseError))
            return False
        span.set_attribute("crm.outcome", "accepted")
        return True


def install_request_batching() -> None:
    """Batch hook events per request (idempotent). Django closes a connection past its age
    (Saleor's default ``DB_CONN_MAX_AGE=0``: every request) in its own ``request_finished``
    receiver; it is moved after ours so that the batch's insert uses the request's connection
    instead of opening another."""
    request_started.connect(_start_request, dispatch_uid="crm-plugin-batch-start")
    request_finished.connect(_end_request, dispatch_uid="crm-plugin-batch-end")
    request_finished.disconnect(close_old_connections)
    request_finished.connect(close_old_connections)


install_request_batching()


def _log_failure(hook: str, exc: Exception, span: Any) -> None:
    logger.warning(
        "CRM could not record %s now: %s",
        hook,
        type(exc).__name__,
        extra={"event": hook, "source": "plugin", "outcome": "error"},
    )
    span.set_attribute("crm.outcome", f"error:{type(exc).__name__}")


def store(item: Held, *, timeout_ms: int) -> bool:
    """Insert ``item`` into the inbox (reading Saleor's object if that failed before) and get
    it applied after commit; True when it was a copy already there. Raises on any failure."""
    if item.body is None or item.event is None:
        item.event, item.body = delivery_body(item.hook, item.obj)
    with transaction.atomic():
        # Remembered for a few seconds: five hooks per checkout would read it five times.
        tenant = recent_tenant_for_api_url(PLUGIN_TENANT_URL) or plugin_tenant(
            item.settings.base_currency
        )
        accepted = accept(
            tenant,
            event=item.event,
            body=item.body,
            headers={},
            source="plugin",
            timeout_ms=timeout_ms,
            # Waiting for the WAL flush of each hook's insert was most of what the plugin
            # added to checkoutComplete (five hooks, five flushes). Only a PostgreSQL crash
            # within a fraction of a second can lose such a row, and the order is then in
            # Saleor's own tables for ``saleor-crm backfill``. Never applied inside Saleor's
            # transaction, whose commit stays synchronous.
            synchronous=False,
        )
        request_drain(tenant.pk)
    return accepted.duplicate


def store_many(items: list[Held], *, timeout_ms: int) -> int:
    """Insert a request's events into the inbox in one statement (a transaction of our own:
    bounded, committed without waiting for the WAL flush, as ``store``); returns how many were
    new. Raises on any failure, storing none of them."""
    with transaction.atomic():
        tenant = recent_tenant_for_api_url(PLUGIN_TENANT_URL) or plugin_tenant(
            items[0].settings.base_currency
        )
        new = accept_many(
            tenant,
            [(item.event or "", item.body or b"") for item in items],
            source="plugin",
            timeout_ms=timeout_ms,
            synchronous=False,
        )
        request_drain(tenant.pk)
    return new


def remember_settings(items: list[dict[str, Any]] | None) -> None:
    """Keep the merchant's saved settings on the plugin's tenant, where Celery tasks (recovery,
    messaging) read them without Saleor's plugin manager. Called only with settings Saleor has
    validated; never raises into the save."""
    try:
        settings = parse(items)
        kept = [{"name": i["name"], "value": i.get("value")} for i in items or [] if "name" in i]
        with transaction.atomic():
            tenant = plugin_tenant(settings.base_currency)
            if tenant.settings != kept:
                tenant.settings = kept
                tenant.save(update_fields=["settings", "updated_at"])
    except Exception as exc:  # the merchant's save must succeed; tasks keep the last settings
        logger.warning("CRM could not keep its settings: %s", type(exc).__name__)


def stripe_webhook(request: Any, settings: StoreSettings) -> Any:
    """Stripe's events for the plugin's single tenant (secrets from ``CRM_STRIPE_*``), through
    the same door as the app's ``api/stripe/<tenant>/webhooks``."""
    from django.http import JsonResponse

    from ..webhooks.stripe import receive
    from ..webhooks.views import _read_capped

    try:
        tenant = plugin_tenant(settings.base_currency)
    except DatabaseError:
        return JsonResponse({"success": False, "error": {"code": "UNAVAILABLE"}}, status=503)
    return receive(tenant, _read_capped(request), request.headers.get("Stripe-Signature", ""))


def dashboard_page(request: Any, path: str) -> Any:
    """``dashboard/...`` under the plugin route: the same pages and assets as the app's
    ``/dashboard/``, with URLs relative to wherever Saleor mounted the plugin."""
    from django.http import Http404, HttpResponseNotFound

    from ..dashboard.views import asset_response, page_response

    rest = path.removeprefix("dashboard").strip("/")
    try:
        if rest.startswith("assets/"):
            return asset_response(rest.removeprefix("assets/"))
        view = rest or "crm"
        full = request.path
        root = full[: full.rfind("/dashboard") + len("/dashboard/")]
        response = page_response(view, root)
    except Http404:
        return HttpResponseNotFound("No such CRM page.")
    response.xframe_options_exempt = True
    return response


# The pages a customer or a messaging provider opens from outside: links in our messages
# (``CRM_PUBLIC_URL`` set to ``https://<saleor>/plugins/saleor.crm``), provider callbacks,
# and what an operator's monitoring polls (``health``, ``metrics``: token-protected).
PUBLIC_PAGES = frozenset(
    {
        "unsubscribe",
        "consent_confirm",
        "feedback",
        "twilio-sms",
        "whatsapp-webhook",
        "health",
        "metrics",
    }
)


def public_page(request: Any, path: str) -> Any:
    """The app's public pages under the plugin route, or None when ``path`` is none of them;
    Saleor's own URLs do not include ours, so the plugin resolves them itself."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve("/" + path.strip("/"), urlconf="saleor_crm_plugin.webhooks.urls")
    except Resolver404:
        return None
    if match.url_name not in PUBLIC_PAGES:
        return None
    return match.func(request, *match.args, **match.kwargs)

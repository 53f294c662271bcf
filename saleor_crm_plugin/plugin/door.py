"""What every plugin hook does, apart from Saleor's plugin class (testable without Saleor)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction

from ..conf import crm_settings
from ..inbox.dispatch import request_drain
from ..inbox.services import accept
from ..ops.tracing import tracer
from ..tenants.services import PLUGIN_TENANT_URL, plugin_tenant, recent_tenant_for_api_url
from ..tenants.store_settings import StoreSettings, parse
from .events import delivery_body
from .spool import Held, spool

logger = logging.getLogger(__name__)


def record_hook(hook: str, obj: Any, settings: StoreSettings | None = None) -> bool:
    """Store what Saleor just told us in the inbox; never raise into Saleor's request.

    Saleor runs hooks inside its request and does not catch their exceptions, so a failure here
    must not fail the mutation, and a slow CRM database must not slow it. The event is read
    from Saleor's object now (its state at this moment) and stored with one small insert that
    may wait ``CRM_PLUGIN_HOOK_TIMEOUT_MS`` at most; whatever fails is kept in the spool and
    stored once the fault clears. Returns True when stored now. Orders and checkouts of a
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
            duplicate = store(item, timeout_ms=crm_settings.PLUGIN_HOOK_TIMEOUT_MS)
            span.set_attribute("crm.outcome", "duplicate" if duplicate else "accepted")
            return True
        except Exception as exc:  # kept for later; the mutation goes on
            _log_failure(hook, exc, span)
            spool.hold(item, database_failed=isinstance(exc, DatabaseError))
            return False


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

"""The async door of ``saleor-crm serve``: Saleor's webhook route, answered on the event loop.

Django's ASGI handler runs a synchronous view on one thread per worker (asgiref's
``thread_sensitive``), so a worker stored one delivery at a time, each with its own
transaction: under 200 deliveries/s the answers queued behind each other and behind the commit
flushes (p99 309 ms on a quiet machine). This small ASGI app sits in front of Django and takes
only ``POST /api/webhooks``; everything else goes to Django unchanged. It verifies on the loop
(the tenant and its keys are remembered; anything else runs the Django code in a thread) and
stores through a group commit (``inbox/group_commit.py``): deliveries that arrive together
share one INSERT and one commit, and each is answered after the commit that holds it.

Same answers as the Django view (``webhooks/views.py``), from the same functions
(``webhooks/delivery.py``): 200 with the duplicate flag, 400/401/413 with the same error codes,
503 when the database or the JWKS is unavailable, never a 4xx for a transient failure.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ParamSpec, TypeVar

import psycopg
from django.db import DatabaseError
from opentelemetry import trace

from ..conf import crm_settings
from ..inbox.dispatch import drain_blocks, schedule_drain
from ..inbox.group_commit import GroupCommitter, Unstorable
from ..ops.tracing import tracer
from ..tenants.models import Tenant
from ..tenants.services import TENANT_STATE_SQL, still_current
from . import delivery
from .signature import JWKSUnavailable, SignatureError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

WEBHOOK_PATH = "/api/webhooks"

P = ParamSpec("P")
R = TypeVar("R")


class _Gone(Exception):
    """The client left before its body arrived: nobody to answer."""


async def _in_thread(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run Django code (the ORM, the counters) off the loop, handing its connection back to
    the pool after, as Django does at the end of a request."""

    def call() -> R:
        from django.db import connection

        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(call)


def committer_from_settings(on_commit: Callable[[set[int]], Awaitable[None]]) -> GroupCommitter:
    """A group committer on the database Django uses, with the settings of the door."""
    from django.db import connection

    params = dict(connection.get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return GroupCommitter(
        params,
        on_commit=on_commit,
        connections=crm_settings.WEBHOOK_DOOR_CONNECTIONS,
        max_batch=crm_settings.WEBHOOK_GROUP_COMMIT_MAX,
        timeout_ms=crm_settings.WEBHOOK_DB_TIMEOUT_MS,
    )


async def _request_drains(tenant_ids: set[int]) -> None:
    """One drain request per tenant per commit, not one per delivery."""
    for tenant_id in sorted(tenant_ids):
        if drain_blocks():
            await _in_thread(schedule_drain, tenant_id)
        else:
            schedule_drain(tenant_id)


class SaleorWebhookDoor:
    """ASGI app: ``POST /api/webhooks`` here, everything else to ``inner`` (Django)."""

    def __init__(self, inner: ASGIApp, *, path: str = WEBHOOK_PATH) -> None:
        self.inner = inner
        self.path = path
        self._committer: GroupCommitter | None = None
        self._warming: asyncio.Task[None] | None = None
        self._revalidating: dict[int, asyncio.Future[bool]] = {}
        self._loading: dict[str, asyncio.Future[Tenant | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == self.path:
            await self._webhook(scope, receive, send)
        else:
            await self.inner(scope, receive, send)

    def committer(self) -> GroupCommitter:
        if self._committer is None:
            self._committer = committer_from_settings(_request_drains)
        return self._committer

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Django and its apps are loaded: move them out of the collector's way, so a
                # full collection does not stall the loop for tens of milliseconds at a time.
                gc.collect()
                gc.freeze()
                self._warming = asyncio.get_running_loop().create_task(self.committer().warm())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._committer is not None:
                    await self._committer.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = delivery.header_dict(scope["headers"])
        with tracer.start_as_current_span(
            delivery.SPAN_NAME, kind=trace.SpanKind.SERVER, attributes={"crm.source": "saleor"}
        ) as span:
            try:
                answer = await self._answer(headers, receive, span)
            except _Gone:
                return
        body = answer.body
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self, headers: dict[str, str], receive: Receive, span: trace.Span
    ) -> delivery.Answer:
        cap = crm_settings.MAX_WEBHOOK_BODY_BYTES
        if delivery.declared_too_large(headers.get("Content-Length"), cap):
            return await _in_thread(delivery.too_large)
        body = await _read_capped(receive, cap)
        if body is None:
            return await _in_thread(delivery.too_large)
        found = delivery.event_and_api_url(headers)
        if found is None:
            return await _in_thread(delivery.missing_headers)
        event, api_url = found
        signature = headers.get("Saleor-Signature", "")
        try:
            tenant = await self._verified(api_url, signature, body)
            if tenant is None:
                return await _in_thread(delivery.unknown_tenant)
            span.set_attribute("crm.tenant_id", tenant.pk)
            accepted = await self.committer().store(tenant.pk, event, body, headers)
        except SignatureError as exc:
            return await _in_thread(delivery.bad_signature, exc)
        except Unstorable:
            return await _in_thread(delivery.unstorable)
        except (JWKSUnavailable, DatabaseError, psycopg.Error) as exc:
            return delivery.unavailable(exc, event)
        return delivery.stored(accepted.duplicate)

    async def _verified(self, api_url: str, signature: str, body: bytes) -> Tenant | None:
        """``delivery.verified_tenant``, settled on the loop when the tenant is remembered.

        A tenant remembered past the delay is revalidated with one read on the door's own
        connections rather than reloaded through Django's pool: after a database outage that
        pool backs off for seconds, and Saleor would have got 503s from a door whose database
        was back. Anything else (unknown key, changed tenant) is Django's code, in a thread."""
        tenant = delivery.verified_without_database(api_url, signature, body)
        if tenant is not None:
            return tenant
        stale = delivery.verified_without_database(api_url, signature, body, stale=True)
        if stale is not None and await self._revalidate(stale):
            return stale
        loading = self._loading.get(api_url)
        if loading is not None:
            # A worker's first deliveries arrive together: one loads the tenant (its first
            # ORM query, its pool), the others wait for it and then verify on the loop.
            await asyncio.wait([loading])
            tenant = delivery.verified_without_database(api_url, signature, body)
            if tenant is not None:
                return tenant
            return await _in_thread(delivery.verified_tenant, api_url, signature, body)
        task = asyncio.ensure_future(_in_thread(delivery.verified_tenant, api_url, signature, body))
        self._loading[api_url] = task
        try:
            return await asyncio.shield(task)
        finally:
            if self._loading.get(api_url) is task:
                del self._loading[api_url]

    async def _revalidate(self, tenant: Tenant) -> bool:
        """``still_current`` with one read for all the deliveries that find the memory expired
        at the same moment (at 200/s, dozens: each reading on its own held up the commits)."""
        pending = self._revalidating.get(tenant.pk)
        if pending is None:

            async def read() -> bool:
                try:
                    row = await self.committer().fetchone(TENANT_STATE_SQL, [tenant.pk])
                    return still_current(tenant, row)
                finally:
                    self._revalidating.pop(tenant.pk, None)

            pending = self._revalidating[tenant.pk] = asyncio.ensure_future(read())
        return await asyncio.shield(pending)


async def _read_capped(receive: Receive, cap: int) -> bytes | None:
    """The body, or None once it passes ``cap`` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)

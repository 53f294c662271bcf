"""Getting accepted deliveries applied, without ever failing or slowing the door that asks.

- ``celery``: publishing to a broker that is down blocks for seconds inside the client's own
  retries, so requests go to one background publisher thread, coalesced per tenant (a drain
  claims every pending row when it runs, so one queued request covers all deliveries committed
  before it is published). If publishing fails, the periodic sweep applies the deliveries.
- ``thread``: no broker (the demo, a single process): one background thread drains in batches.
- ``eager``: drain inside the request after commit (deterministic; tests).
- ``external``: nothing here; another process drains (``saleor-crm drain --follow``). A drain
  thread inside a busy web process slows its answers (the request thread waits for the GIL
  behind the CPU-bound batch at every database round trip); a separate process does not.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import close_old_connections, connection, transaction

from ..conf import crm_settings

logger = logging.getLogger(__name__)

_publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-drain-publisher")
_queued: set[int] = set()
_lock = threading.Lock()


def celery_app() -> Any:
    """The process's configured Celery app: Saleor's inside Saleor, the project's standalone.

    ``shared_task`` looks its app up per thread, and every thread but the one that created the
    app (our publisher thread; a server's request threads) gets Celery's unconfigured fallback
    app, which publishes to ``amqp://localhost`` whatever the settings say (inside Saleor that
    ran the drain in the publisher thread instead of queueing it on Saleor's broker)."""
    from celery import _state

    current = _state.get_current_app()
    if current is not _state.default_app:
        return current
    configured = [app for app in _state._get_active_apps() if app is not _state.default_app]
    return configured[0] if configured else current


def _send(task: str, tenant_id: int, what: str) -> None:
    try:
        celery_app().tasks[task].apply_async(kwargs={"tenant_id": tenant_id}, retry=False)
    except Exception as exc:  # any broker failure: the sweep covers it
        logger.warning("could not queue an inbox %s: %s: %s", what, type(exc).__name__, exc)


def _publish_scrub(tenant_id: int) -> None:
    from .tasks import SCRUB_TASK

    _send(SCRUB_TASK, tenant_id, "scrub")


def _publish(tenant_id: int) -> None:
    from .tasks import DRAIN_TASK

    with _lock:
        _queued.discard(tenant_id)
    _send(DRAIN_TASK, tenant_id, "drain")


class LocalDrainer:
    """A daemon thread that drains the inbox when woken, and every ``interval`` seconds anyway."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self.wake_up = threading.Event()
        self.idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stopping = threading.Event()

    def wake(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="crm-drainer", daemon=True)
                self._thread.start()
        self.idle.clear()
        self.wake_up.set()

    def _run(self) -> None:
        from ..profiles.traces import scrub_pending
        from .services import drain

        while not self._stopping.is_set():
            self.wake_up.wait(self.interval)
            self.wake_up.clear()
            if self._stopping.is_set():
                break
            try:
                close_old_connections()
                drain()
                scrub_pending()
            except Exception:  # keep draining later; rows stay pending
                logger.exception("background inbox drain failed")
            finally:
                connection.close()
            if not self.wake_up.is_set():
                self.idle.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in hand and end the thread (a process that stops drawing
        deliveries, such as a test that must see them pending)."""
        with self._start_lock:
            thread = self._thread
            if thread is None:
                return
            self._stopping.set()
            self.wake_up.set()
        thread.join(timeout)
        with self._start_lock:
            self._thread = None
            self._stopping.clear()


local_drainer = LocalDrainer()


def drain_blocks() -> bool:
    """Whether ``schedule_drain`` applies the deliveries before it returns (``eager``): an
    async caller must then run it off its event loop."""
    return crm_settings.INBOX_DISPATCH == "eager"


def schedule_drain(tenant_id: int) -> None:
    """Get the tenant's inbox drained now: for a caller that has already committed (the
    async door's group commit), where ``request_drain`` would wait for a Django commit."""
    _schedule(tenant_id)


def _schedule(tenant_id: int) -> None:
    mode = crm_settings.INBOX_DISPATCH
    if mode == "eager":
        from .services import drain

        drain(tenant_id=tenant_id)
    elif mode == "thread":
        local_drainer.wake()
    elif mode == "celery":
        with _lock:
            if tenant_id in _queued:
                return
            _queued.add(tenant_id)
        _publisher.submit(_publish, tenant_id)


def schedule_scrub(tenant_id: int) -> None:
    """Get the stored bodies naming customers the tenant's inbox just deleted emptied, once
    committed (``profiles.traces.queue_scrub``): right away (``eager``), by the drain thread,
    by a task of its own (``celery``), or by ``saleor-crm drain`` (``external``); the inbox
    sweep runs any left over."""
    mode = crm_settings.INBOX_DISPATCH
    if mode == "eager":
        from ..profiles.traces import scrub_pending

        scrub_pending(tenant_id)
    elif mode == "thread":
        local_drainer.wake()
    elif mode == "celery":
        _publisher.submit(_publish_scrub, tenant_id)


def request_drain(tenant_id: int) -> None:
    """After the current transaction commits, get the tenant's inbox drained."""
    transaction.on_commit(lambda: _schedule(tenant_id))

"""Asking a worker to drain the inbox, without ever failing or slowing the door that asks.

Publishing to a broker that is down blocks for seconds inside the client's own retries, and a
webhook must answer Saleor quickly. So, with a broker, requests are handed to one background
publisher thread and coalesced per tenant: a drain claims every pending row when it runs, so
one queued request covers all deliveries committed before it is published. If publishing fails
the deliveries are still safe in the inbox and the periodic sweep applies them.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction

logger = logging.getLogger(__name__)

_publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-drain-publisher")
_queued: set[int] = set()
_lock = threading.Lock()


def _publish(tenant_id: int) -> None:
    from .tasks import drain_inbox

    with _lock:
        _queued.discard(tenant_id)
    try:
        drain_inbox.apply_async(kwargs={"tenant_id": tenant_id}, retry=False)
    except Exception as exc:
        logger.warning("could not queue an inbox drain: %s: %s", type(exc).__name__, exc)


def _schedule(tenant_id: int) -> None:
    from .tasks import drain_inbox

    if drain_inbox.app.conf.task_always_eager:
        # No broker: apply in-process, now (the demo and single-process set-ups).
        _publish(tenant_id)
        return
    with _lock:
        if tenant_id in _queued:
            return
        _queued.add(tenant_id)
    _publisher.submit(_publish, tenant_id)


def request_drain(tenant_id: int) -> None:
    """After the current transaction commits, get the tenant's inbox drained."""
    transaction.on_commit(lambda: _schedule(tenant_id))

"""Asking a worker to drain the inbox, without ever failing or slowing the door that asks."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def request_drain(tenant_id: int) -> None:
    """After the current transaction commits, queue a drain for this tenant.

    If the broker is down the delivery is still safe in the inbox and the periodic sweep applies
    it, so a publishing error is logged and swallowed: the door must not fail because of it.
    """

    def publish() -> None:
        from .tasks import drain_inbox

        try:
            drain_inbox.apply_async(kwargs={"tenant_id": tenant_id}, retry=False)
        except Exception as exc:
            logger.warning("could not queue an inbox drain: %s", type(exc).__name__)

    transaction.on_commit(publish)

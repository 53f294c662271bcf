"""Reads about the inbox, for operators: how much is waiting and for how long."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class InboxLag:
    pending: int
    failed: int
    oldest_pending_seconds: float


def inbox_lag() -> InboxLag:
    """Pending and failed deliveries and the age of the oldest pending one (partial index)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*) FILTER (WHERE state = 'pending'),
                   count(*) FILTER (WHERE state = 'failed'),
                   COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)
                                    FILTER (WHERE state = 'pending')), 0)
            FROM crm_inbox_delivery WHERE state IN ('pending', 'failed')
            """
        )
        pending, failed, oldest = cur.fetchone() or (0, 0, 0)
    return InboxLag(pending=int(pending), failed=int(failed), oldest_pending_seconds=float(oldest))

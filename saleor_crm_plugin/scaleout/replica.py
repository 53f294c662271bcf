"""Where the heavy read-only analytics run: ``CRM_ANALYTICS_DATABASE`` (default: the primary).

Reports scan a store's whole order history; on a streaming replica they no longer compete with
the inbox's writes for the primary's CPU and buffer cache. The price is staleness: a replica
answers as of the last WAL it replayed, so a figure may trail the primary by the replica's lag
(seconds normally, longer while it catches up). Only reads that a user accepts as "as of a
moment ago" come here; anything a write depends on (who a campaign is sent to, what a drain
claims) stays on the primary, and nothing here ever writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ..conf import crm_settings


def analytics_alias() -> str:
    """The Django database alias analytics read from."""
    return crm_settings.ANALYTICS_DATABASE


def analytics_connection() -> BaseDatabaseWrapper:
    """The connection analytics read from (the primary's when no replica is configured)."""
    return connections[analytics_alias()]


@contextmanager
def read_only() -> Iterator[BaseDatabaseWrapper]:
    """A read-only transaction on the analytics connection.

    ``READ ONLY`` makes the primary refuse a write slipped into a report just as a replica
    would, so a mistake shows in tests against the primary and not first in production.
    When the analytics alias is the primary and the caller is already inside a transaction
    (a test, a mutation), the statement is skipped: it must come first in a transaction.
    """
    alias = analytics_alias()
    conn = connections[alias]
    nested = conn.in_atomic_block
    with transaction.atomic(using=alias):
        if not nested:
            with conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
        yield conn


def replica_lag_seconds() -> float | None:
    """How far the analytics database trails the primary, in seconds (None when it is the
    primary). Measured as the age of the last replayed transaction, so on an idle primary it
    grows although nothing is missing: alert on it together with write activity."""
    conn = analytics_connection()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_is_in_recovery(), "
            "extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
        )
        row = cur.fetchone()
    if row is None or not row[0]:
        return None
    return float(row[1]) if row[1] is not None else 0.0

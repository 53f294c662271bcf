"""Counters kept in the database: one upsert per event, shared by every process."""

from __future__ import annotations

import logging
import re

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.:/-]")


def label_string(labels: dict[str, str]) -> str:
    """``k="v"`` pairs sorted by key, values restricted to a safe alphabet and 64 characters.

    Label values come from request headers (the event name), so they are reduced to
    characters that need no escaping and cannot carry personal data or blow up cardinality
    with long strings.
    """
    return ",".join(
        f'{key}="{_LABEL_VALUE.sub("_", str(value))[:64]}"' for key, value in sorted(labels.items())
    )


def increment(name: str, labels: dict[str, str], by: int = 1) -> None:
    """Add ``by`` to the counter; never raises (a count is not worth failing a request for).

    In its own savepoint when a transaction is open, so a failure here cannot poison the
    caller's transaction; in autocommit otherwise, so the row lock lasts one statement.
    """
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO crm_ops_counter (name, labels, value, updated_at)
                VALUES (%s, %s, %s, now())
                ON CONFLICT (name, labels)
                DO UPDATE SET value = crm_ops_counter.value + EXCLUDED.value, updated_at = now()
                """,
                [name, label_string(labels), by],
            )
    except DatabaseError as exc:
        logger.warning("could not count %s: %s", name, type(exc).__name__)


def read_counters() -> list[tuple[str, str, int]]:
    """Every counter as (name, labels, value), sorted for a stable exposition."""
    with connection.cursor() as cur:
        cur.execute("SELECT name, labels, value FROM crm_ops_counter ORDER BY name, labels")
        return [(name, labels, int(value)) for name, labels, value in cur.fetchall()]

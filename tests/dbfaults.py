"""Real database faults for tests: another session holding a lock, as a busy database would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


@contextmanager
def table_locked(table: str = "crm_inbox_delivery") -> Iterator[None]:
    """While inside, a second connection holds an exclusive lock on ``table``."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as locker:
        locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield

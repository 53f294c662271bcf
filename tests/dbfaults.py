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


@contextmanager
def inserts_into(table: str, action: str) -> Iterator[None]:
    """While inside, each row inserted into ``table`` first runs ``action`` (PL/pgSQL), such as
    ``PERFORM pg_sleep(60)`` for a database gone slow or ``RAISE EXCEPTION ...`` for one that
    refuses; made and dropped from a second connection, as an operator's change would be."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(
            "CREATE FUNCTION crm_test_fault() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {action}; RETURN NEW; END $$"
        )
        admin.execute(
            f"CREATE TRIGGER crm_test_fault BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION crm_test_fault()"
        )
        try:
            yield
        finally:
            admin.execute(f"DROP TRIGGER crm_test_fault ON {table}")
            admin.execute("DROP FUNCTION crm_test_fault()")

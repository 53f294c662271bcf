"""Empty the database after a transactional test by deleting from the tables that have rows,
instead of Django's ``flush`` (one TRUNCATE of every table).

Why: TRUNCATE gives each of the ~55 tables (and their indexes) new files and waits for the
commit to reach the disk; on the shared 2-core machine that took 0.3-2 s after each of the
~400 transactional tests, whatever little they wrote. Most tests write to a handful of tables,
and a DELETE of a few rows costs milliseconds. The end state is flush's: every model table
empty, sequences left as they are (``reset_sequences=False``), then ``post_migrate``. Content
types and permissions are the one exception: flush deletes them and ``post_migrate`` writes the
same rows again under new ids; here they stay (nothing in the CRM or its tests writes or reads
them by id), and ``post_migrate`` still adds any that are missing. The commit does not wait for
the disk (``synchronous_commit``, this transaction only): a test database needs no durability.

Every foreign key is deferrable (no migration adds one of its own), so the deletes run in any
order inside one transaction; a table refilled meanwhile (nothing does that today) is emptied
on the next pass. Anything this does not cover (``available_apps``, serialized rollback, a
database other than PostgreSQL) goes through Django's own flush.
"""

from __future__ import annotations

from django.core.management.sql import emit_post_migrate_signal
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import TransactionTestCase

_flush_teardown = TransactionTestCase._fixture_teardown


# Written by post_migrate (contenttypes and auth), identical after every test.
KEPT = frozenset({"django_content_type", "auth_permission"})


def tables_with_rows(connection: BaseDatabaseWrapper) -> list[str]:
    """The model tables (but ``KEPT``) holding at least one row, in one query."""
    tables = [
        table
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if table not in KEPT
    ]
    quote = connection.ops.quote_name
    probe = " UNION ALL ".join(
        f"SELECT %s WHERE EXISTS (SELECT FROM {quote(table)})" for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(probe, tables)
        return [row[0] for row in cursor.fetchall()]


def empty_tables(connection: BaseDatabaseWrapper) -> None:
    quote = connection.ops.quote_name
    for _ in range(5):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            full = tables_with_rows(connection)
            if not full:
                return
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in full:
                cursor.execute(f"DELETE FROM {quote(table)}")
    raise AssertionError(f"tables keep refilling after the test: {tables_with_rows(connection)}")


def _fixture_teardown(self: TransactionTestCase) -> None:
    names = self._databases_names(include_mirrors=False)  # type: ignore[attr-defined]
    if (
        self.available_apps is not None
        or self.serialized_rollback
        or any(connections[name].vendor != "postgresql" for name in names)
    ):
        _flush_teardown(self)
        return
    for name in names:
        empty_tables(connections[name])
        emit_post_migrate_signal(0, False, name)


TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]


def dump(connection: BaseDatabaseWrapper) -> dict[str, bytes]:
    """Every row of every model table that has any, as PostgreSQL's binary COPY: a state that
    several tests start from, built once by the real path and put back by ``load``."""
    quote = connection.ops.quote_name
    tables: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        for table in tables_with_rows(connection):
            with cursor.copy(f"COPY {quote(table)} TO STDOUT (FORMAT binary)") as copy:
                tables[table] = b"".join(bytes(block) for block in copy)
    return tables


def load(connection: BaseDatabaseWrapper, tables: dict[str, bytes]) -> None:
    """Replace the database's rows by a ``dump``. Sequences stay ahead of the ids it holds:
    they were past them when it was taken and are never reset."""
    empty_tables(connection)
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # The rows are a state the real path wrote, triggers' rows included (stage history):
        # replaying triggers on them would write those rows twice.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table, data in tables.items():
            with cursor.copy(f"COPY {quote(table)} FROM STDIN (FORMAT binary)") as copy:
                copy.write(data)

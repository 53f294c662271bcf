"""SQL fragments shared by the set-based statements of this capability."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from django.db import connection


def _exact(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)  # its digits, read back exactly by a ``numeric`` column
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def rows_json(rows: Sequence[Any]) -> str:
    """A batch's rows (dicts or dataclasses) as one JSON array, for
    ``jsonb_to_recordset(%s::jsonb) AS v(...)``.

    One parameter per statement instead of one array per column: psycopg writes each array
    element by element in Python (about a tenth of applying a batch went to it), where orjson
    writes the whole batch in C. Times keep their offset and microseconds; a ``Decimal`` is
    written as its digits."""
    return orjson.dumps(rows, default=_exact).decode()


@contextmanager
def bound_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A cursor on Django's connection, in its transaction, that sends the parameters apart
    from the SQL text, for a statement carrying a batch as one ``rows_json`` parameter.

    Django's cursors bind on the client: the parameter is escaped into the SQL text and the
    server reads it back as a literal, about 15 ms more per megabyte (a batch of 1,000 orders
    with their lines is one). Database errors come out as Django's, as from its own cursors;
    Django leaves statements unprepared (``prepare_threshold``), and so does this cursor."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        yield cur


# The profile an order, checkout or timeline entry belongs to: the account's profile when Saleor
# names a user; for a guest, the registered profile with that e-mail (a guest's history joins
# the account), else the guest profile. Expects ``t`` (tenant id) and ``v.user_id``/``v.email``.
PROFILE_FOR = """
COALESCE(
  (SELECT p.id FROM crm_profile p WHERE p.tenant_id = %(tenant)s AND p.user_id = v.user_id),
  CASE WHEN v.user_id IS NULL AND v.email <> '' THEN
    (SELECT p.id FROM crm_profile p WHERE p.tenant_id = %(tenant)s AND p.email = v.email
     ORDER BY p.user_id IS NULL, p.id LIMIT 1)
  END)
"""

# Salted e-mail hash of a deletion tombstone, computed the same way in SQL everywhere.
EMAIL_HASH = "encode(sha256(convert_to({tenant}::text || ':' || {email}, 'UTF8')), 'hex')"

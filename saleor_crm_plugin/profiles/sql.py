"""SQL fragments shared by the set-based statements of this capability."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from django.db import connection
from django.db.models import Model


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


class ModelColumns:
    """A model's columns in a hand-written statement, and its instance rebuilt from a row.

    For a read on a request's path that the ORM would make several queries of, or spend more
    time compiling than the database takes to answer: the select list is written once from the
    model's fields, so it follows the model, and each value goes through the converters the
    ORM applies (a ``JSONField`` arrives as text from Django's connection)."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.fields = tuple(model._meta.concrete_fields)
        self.names = tuple(f.attname for f in self.fields)
        self._pk_at = self.fields.index(model._meta.pk)
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in self.fields)
        self._converters: list[tuple[int, list[Any], Any]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    def instance(self, row: Sequence[Any], start: int = 0) -> Any:
        """The instance from ``row[start:start + len(self)]``; None when its primary key is null
        (a left join that found nothing)."""
        values = list(row[start : start + len(self.fields)])
        if values[self._pk_at] is None:
            return None
        if self._converters is None:
            self._converters = []
            for i, f in enumerate(self.fields):
                col = f.get_col(self.model._meta.db_table)
                convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if convs:
                    self._converters.append((i, convs, col))
        for i, convs, col in self._converters:
            for convert in convs:
                values[i] = convert(values[i], col, connection)
        return self.model.from_db(connection.alias, self.names, values)

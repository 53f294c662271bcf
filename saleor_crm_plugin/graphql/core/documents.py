"""Each distinct query parsed and validated once, not on every request.

graphql-core 2 parses the query text and validates it against the whole schema on every
execution: for ``crmMe`` that was about a third of the request's Python, more than its four
database reads. Storefronts and the dashboard send the same few query texts over and over, and
validation depends only on the schema and the text (never on variables), so a valid document
is remembered by its text. The memory is bounded (least recently used), so a client sending
endless distinct queries costs what it did before and no more memory.
"""

from __future__ import annotations

import functools
from functools import partial
from typing import Any

from graphql.backend.base import GraphQLBackend, GraphQLDocument
from graphql.backend.core import execute_and_validate
from graphql.language import ast
from graphql.language.parser import parse
from graphql.validation import validate

DOCUMENTS_REMEMBERED = 256


@functools.lru_cache(maxsize=DOCUMENTS_REMEMBERED)
def parsed(query: str) -> ast.Document:
    """The query's syntax tree (raises ``GraphQLSyntaxError``; errors are not remembered)."""
    return parse(query)


class RememberingBackend(GraphQLBackend):  # type: ignore[misc]
    """A graphql-core backend that reuses the parsed and validated document of a query text."""

    def __init__(self) -> None:
        self._documents = functools.lru_cache(maxsize=DOCUMENTS_REMEMBERED)(self._document)

    def document_from_string(self, schema: Any, document_string: Any) -> GraphQLDocument:
        if not isinstance(document_string, str):
            raise TypeError("the query must be a string")
        return self._documents(schema, document_string)

    @staticmethod
    def _document(schema: Any, query: str) -> GraphQLDocument:
        document = parsed(query)
        valid = not validate(schema, document)
        return GraphQLDocument(
            schema=schema,
            document_string=query,
            document_ast=document,
            # A valid text is executed without validating again; an invalid one is
            # validated on each request, so its errors come back exactly as before.
            execute=partial(execute_and_validate, schema, document, validate=not valid),
        )

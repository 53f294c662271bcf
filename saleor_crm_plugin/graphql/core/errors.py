"""Errors in Saleor's shape: a message and ``extensions.exception.code``, never a stack trace."""

from __future__ import annotations

from typing import Any


class CRMGraphQLError(Exception):
    code = "GRAPHQL_ERROR"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        if code:
            self.code = code


class PermissionDenied(CRMGraphQLError):
    code = "PermissionDenied"


class InvalidInput(CRMGraphQLError):
    code = "GRAPHQL_ERROR"


class QueryTooComplex(CRMGraphQLError):
    code = "QueryCostError"


def format_error(error: Any) -> dict[str, Any]:
    """Shape one execution error; unexpected exceptions become a generic message."""
    original = getattr(error, "original_error", None)
    formatted: dict[str, Any] = {"message": str(getattr(error, "message", error))}
    locations = getattr(error, "locations", None)
    if locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in locations]
    path = getattr(error, "path", None)
    if path:
        formatted["path"] = path
    if isinstance(original, CRMGraphQLError):
        exception: dict[str, Any] = {"code": original.code}
        if original.field:
            exception["field"] = original.field
        formatted["message"] = str(original)
        formatted["extensions"] = {"exception": exception}
    elif original is not None:
        formatted["message"] = "Internal Server Error"
        formatted["extensions"] = {"exception": {"code": "INTERNAL_ERROR"}}
    else:
        formatted["extensions"] = {"exception": {"code": "GRAPHQL_ERROR"}}
    return formatted

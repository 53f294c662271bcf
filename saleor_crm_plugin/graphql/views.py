"""The GraphQL door: parse, check limits, authenticate, execute; resolvers do the rest."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from graphql.error import GraphQLError

from .auth import InvalidToken, principal_from_header
from .core.context import CRMContext
from .core.documents import RememberingBackend, parsed
from .core.errors import CRMGraphQLError, format_error
from .core.limits import check_limits
from .schema import schema

logger = logging.getLogger(__name__)

MAX_QUERY_BYTES = 100_000

_BACKEND = RememberingBackend()

EXPLORER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Saleor CRM GraphQL</title>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css"></head>
<body style="margin:0"><div id="graphiql" style="height:100vh"></div>
<script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({url: window.location.pathname});
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {fetcher, defaultEditorToolsVisibility: true}));
</script></body></html>"""


def _errors(*errors: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse({"data": None, "errors": list(errors)}, status=status)


def _error(exc: CRMGraphQLError) -> dict[str, Any]:
    return {"message": str(exc), "extensions": {"exception": {"code": exc.code}}}


def _request_body(request: HttpRequest) -> dict[str, Any]:
    if request.method == "GET":
        raw_variables = request.GET.get("variables")
        return {
            "query": request.GET.get("query", ""),
            "variables": json.loads(raw_variables) if raw_variables else None,
            "operationName": request.GET.get("operationName"),
        }
    payload = json.loads(request.body or b"{}")
    if not isinstance(payload, dict):
        raise ValueError("body must be a JSON object")
    return payload


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


@csrf_exempt
def graphql_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and "query" not in request.GET:
        return HttpResponse(EXPLORER)
    if request.method not in ("GET", "POST"):
        return _errors({"message": "Use GET or POST."}, status=405)
    if len(request.body) > MAX_QUERY_BYTES:
        return _errors({"message": "Query is too large."}, status=413)
    try:
        body = _request_body(request)
        query = body.get("query")
        variables = body.get("variables") or {}
        if not isinstance(query, str) or not query.strip() or not isinstance(variables, dict):
            raise ValueError("give a query string and a variables object")
    except ValueError as exc:
        return _errors({"message": f"Malformed request: {exc}"}, status=400)
    if _has_nul(query) or _has_nul(variables):
        # PostgreSQL stores no NUL in text: refused here, once, instead of failing deep
        # inside whichever resolver first hands the value to the database.
        return _errors(
            {
                "message": "Text may not contain the NUL character (\\u0000).",
                "extensions": {"exception": {"code": "GRAPHQL_ERROR"}},
            }
        )
    try:
        document = parsed(query)
        check_limits(document, variables)
    except GraphQLError as exc:
        return _errors(
            {"message": exc.message, "extensions": {"exception": {"code": "GRAPHQL_ERROR"}}}
        )
    except CRMGraphQLError as exc:
        return _errors(_error(exc))
    try:
        principal = principal_from_header(
            request.headers.get("Authorization", ""), request.headers.get("Saleor-Api-Url", "")
        )
    except InvalidToken as exc:
        return _errors(_error(exc))
    result = schema.execute(
        query,
        variable_values=variables,
        operation_name=body.get("operationName"),
        backend=_BACKEND,
        context_value=CRMContext(
            principal=principal,
            client_ip=request.META.get("REMOTE_ADDR", ""),
            time_zone=request.headers.get("Crm-Time-Zone", "")[:64],
        ),
    )
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [format_error(e) for e in result.errors]
    return JsonResponse(response)

"""Depth and cost limits checked on the parsed query before anything executes.

A cost is the number of objects a query may return: each connection field multiplies by its
``first`` (capped), so a deeply nested or very wide query is refused up front, cheaply.
"""

from __future__ import annotations

from typing import Any

from graphql.language import ast

from .errors import QueryTooComplex

MAX_DEPTH = 10
MAX_PAGE = 100
MAX_COST = 5000


def _fragments(document: ast.Document) -> dict[str, ast.FragmentDefinition]:
    return {d.name.value: d for d in document.definitions if isinstance(d, ast.FragmentDefinition)}


def _first(node: ast.Field, variables: dict[str, Any]) -> int:
    for argument in node.arguments or []:
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, ast.Variable):
                raw = variables.get(value.name.value)
            elif isinstance(value, ast.IntValue):
                raw = int(value.value)
            else:
                raw = None
            return min(int(raw), MAX_PAGE) if isinstance(raw, int) and raw > 0 else MAX_PAGE
    return 1


def _walk(
    selection_set: ast.SelectionSet | None,
    fragments: dict[str, ast.FragmentDefinition],
    variables: dict[str, Any],
    depth: int,
    seen: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    if depth > MAX_DEPTH:
        raise QueryTooComplex(f"query is deeper than {MAX_DEPTH} levels")
    cost = 0
    for selection in selection_set.selections:
        if isinstance(selection, ast.Field):
            multiplier = _first(selection, variables)
            cost += multiplier * (
                1 + _walk(selection.selection_set, fragments, variables, depth + 1, seen)
            )
        elif isinstance(selection, ast.InlineFragment):
            cost += _walk(selection.selection_set, fragments, variables, depth, seen)
        elif isinstance(selection, ast.FragmentSpread):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue
            cost += _walk(fragments[name].selection_set, fragments, variables, depth, seen | {name})
    return cost


def check_limits(document: ast.Document, variables: dict[str, Any]) -> int:
    """Raise ``QueryTooComplex`` if the query is too deep or too costly; return its cost."""
    fragments = _fragments(document)
    cost = 0
    for definition in document.definitions:
        if isinstance(definition, ast.OperationDefinition):
            cost += _walk(definition.selection_set, fragments, variables, 1, frozenset())
    if cost > MAX_COST:
        raise QueryTooComplex(f"query may return {cost} objects; the limit is {MAX_COST}")
    return cost

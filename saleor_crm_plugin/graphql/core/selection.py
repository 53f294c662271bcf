"""Which fields a query asks for under the field being resolved.

A resolver that can read everything its children show in one statement should read only what
they will show: a storefront that asks ``crmMe { ordersCount }`` should not pay for summing
the points ledger.
"""

from __future__ import annotations

from typing import Any

from graphql.language import ast


def _names(
    selection_set: ast.SelectionSet | None,
    fragments: dict[str, ast.FragmentDefinition],
    seen: frozenset[str],
) -> set[str]:
    found: set[str] = set()
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, ast.Field):
            found.add(selection.name.value)
        elif isinstance(selection, ast.InlineFragment):
            found |= _names(selection.selection_set, fragments, seen)
        elif isinstance(selection, ast.FragmentSpread):
            name = selection.name.value
            if name not in seen and name in fragments:
                found |= _names(fragments[name].selection_set, fragments, seen | {name})
    return found


def selected_fields(info: Any) -> frozenset[str]:
    """The schema names (camelCase) of the fields selected directly under this one, through
    fragments; a field under ``@skip``/``@include`` counts as selected."""
    found: set[str] = set()
    for node in info.field_asts:
        found |= _names(node.selection_set, info.fragments, frozenset())
    return frozenset(found)

"""Hostile variables for every root field of our GraphQL schema: errors with codes, never a crash.

Documents are made from the schema itself (every query and mutation field with arguments), and
Hypothesis fills the variables with hostile values of the declared type, or of a wrong type.
Asserted for anonymous callers, a customer and a staff member with every permission: the HTTP
status is below 500, and every error carries a code other than ``INTERNAL_ERROR`` (an exception
nobody handled).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.test import Client
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.type.definition import get_named_type, is_leaf_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleor_crm_plugin.graphql.schema import schema
from tests.graphql.conftest import ANNA

pytestmark = pytest.mark.django_db

hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "💥" * 300, "x" * 20_000, "-1", "1e999", "VXNlcjo0Ng==", "../"]),
)
wrong = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    hostile_text,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(hostile_text, hostile_text, max_size=3),
)


def typed(kind: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the declared type, mostly hostile; now and then a wrong type."""
    if isinstance(kind, GraphQLNonNull):
        return typed(kind.of_type, depth)
    if isinstance(kind, GraphQLList):
        return st.lists(typed(kind.of_type, depth + 1), max_size=3) | wrong
    if isinstance(kind, GraphQLEnumType):
        return st.sampled_from([value.name for value in kind.values]) | hostile_text
    if isinstance(kind, GraphQLInputObjectType):
        if depth > 2:
            return st.just({})
        return st.fixed_dictionaries(
            {},
            optional={name: typed(f.type, depth + 1) for name, f in kind.fields.items()},
        )
    assert isinstance(kind, GraphQLScalarType)
    by_name: dict[str, st.SearchStrategy[Any]] = {
        "Int": st.integers(min_value=-(2**40), max_value=2**40),
        "Float": st.floats(allow_nan=False) | st.integers(min_value=-(10**20), max_value=10**20),
        "Boolean": st.booleans(),
        "Decimal": st.sampled_from(["-1", "1e30", "NaN", "0.0000001", "abc", "12,5"]),
        "Date": st.sampled_from(["2026-02-30", "0000-01-01", "9999-12-31", "yesterday"]),
        "DateTime": st.sampled_from(["2026-13-01T00:00:00", "1970-01-01T00:00:00+25:00", "x"]),
    }
    return by_name.get(kind.name, hostile_text) | wrong


def document(operation: str, name: str, field: Any) -> str:
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    passed = ", ".join(f"{a}: ${a}" for a in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    return f"{operation}({declared}) {{ {name}({passed}){selection} }}"


CASES = [
    (operation, name, field)
    for operation, root in (
        ("query", schema.get_query_type()),
        ("mutation", schema.get_mutation_type()),
    )
    if root is not None
    for name, field in root.fields.items()
    if field.args
]


@st.composite
def requests(draw: Any) -> tuple[str, str, dict[str, Any]]:
    operation, name, field = draw(st.sampled_from(CASES))
    variables = {a: draw(typed(arg.type)) for a, arg in field.args.items()}
    return name, document(operation, name, field), variables


@pytest.fixture
def tokens(issuer) -> dict[str, str | None]:
    every = ("MANAGE_USERS", "MANAGE_ORDERS", "MANAGE_SETTINGS", "MANAGE_STAFF")
    return {
        "anonymous": None,
        "customer": issuer.token(user_id=ANNA, email="anna.mueller@example.de"),
        "staff": issuer.token(user_id="VXNlcjox", staff=True, permissions=every),
    }


@given(call=requests(), who=st.sampled_from(["anonymous", "customer", "staff"]))
@settings(
    max_examples=int(os.environ.get("CRM_FUZZ_EXAMPLES", "0")) * 8 or 200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    # The same examples on every CI run (a red build means a change broke something); set
    # CRM_FUZZ_RANDOM=1 to explore new ones.
    derandomize=not os.environ.get("CRM_FUZZ_RANDOM"),
)
def test_hostile_variables_get_coded_errors_never_a_crash(store, tokens, call, who):
    name, query, variables = call
    token = tokens[who]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = Client().post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code < 500, (name, response.content[:300])
    for error in response.json().get("errors") or []:
        code = error.get("extensions", {}).get("exception", {}).get("code")
        assert code and code != "INTERNAL_ERROR", (name, who, variables, error)


def test_a_nul_character_is_refused_with_a_coded_error(store):
    """Found by the fuzz: a NUL in a referral claim's Saleor URL reached PostgreSQL."""
    query = (
        "mutation($code: String!, $email: String!, $saleorApiUrl: String) { crmReferralClaim("
        "code: $code, email: $email, saleorApiUrl: $saleorApiUrl) { __typename } }"
    )
    variables = {"code": "", "email": "", "saleorApiUrl": "\x00"}
    response = Client().post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables}),
        content_type="application/json",
    )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["exception"]["code"] == "GRAPHQL_ERROR"
    assert "NUL" in error["message"]

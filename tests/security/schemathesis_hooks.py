"""schemathesis hooks for ``test_schemathesis.py``; loaded by schemathesis in ``.tools-venv``
(``SCHEMATHESIS_HOOKS``), never imported by the test run itself.

Our errors follow Saleor's shape: a message and ``extensions.exception.code``. schemathesis's own
GraphQL check knows Apollo's ``extensions.code`` and otherwise counts every error with a ``path``
(a resolver's refusal such as "Invalid CRMSegment id.") as a server failure. So the check here is
our contract: never a 5xx, every error coded, and no code ``INTERNAL_ERROR`` (an exception that
no resolver handled). Strategies are given for the custom scalars of our schema.
"""

from __future__ import annotations

import json

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

schemathesis.graphql.scalar(
    "Date",
    st.sampled_from(["2026-02-28", "2026-02-30", "0001-01-01", "9999-12-31", "x"]).map(
        nodes.String
    ),
)
schemathesis.graphql.scalar(
    "DateTime",
    st.sampled_from(
        ["2026-03-29T02:30:00+01:00", "2026-13-01T00:00:00", "1970-01-01T00:00:00Z", "soon"]
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "JSONString",
    st.sampled_from(['{"a": 1}', "[]", "{", '"\\u0000"', "null"]).map(nodes.String),
)
schemathesis.graphql.scalar("_Any", st.just("{}").map(nodes.String))


@schemathesis.check
def crm_errors_are_coded(ctx, response, case):  # type: ignore[no-untyped-def]
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}")
    payload = json.loads(response.content or b"{}")
    for error in payload.get("errors") or []:
        code = ((error.get("extensions") or {}).get("exception") or {}).get("code")
        if not code or code == "INTERNAL_ERROR":
            raise AssertionError(f"uncoded or internal error: {error}")
    return None

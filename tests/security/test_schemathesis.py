"""schemathesis against our own GraphQL schema, through the real server, as each kind of caller.

Our runtime pins graphql-core 2 (Saleor's graphene 2); schemathesis builds its GraphQL strategies
on graphql-core 3, so it runs from ``.tools-venv`` (``tools/tool-env.sh``) as a separate process
against ``saleor-crm serve``. It reads ``schema.graphql`` (the exported schema a storefront
developer builds against), writes queries and mutations for every root field with generated
arguments and selections, and fails on any server error. The hand-written fuzz
(``test_graphql_fuzz.py``) adds what schemathesis does not send: wrong types and hostile strings.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.graphql.conftest import ANNA
from tests.reliability.harness import database_url, server

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = os.environ.get("CRM_FUZZ_EXAMPLES", "3")


@pytest.fixture(scope="module")
def tools_python() -> Path:
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "tool-env.sh")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"tools/tool-env.sh failed:\n{done.stdout}\n{done.stderr}"
    return Path(done.stdout.strip().splitlines()[-1])


def run_schemathesis(
    python: Path, schema: Path, url: str, checks: str, phases: str, tmp: Path, *extra: str
) -> str:
    """Run schemathesis on ``schema`` against ``url``; fails the test with its report unless
    every check passed. The hooks module (our GraphQL check, strategies for our scalars) is
    imported by name."""
    command = [str(python.parent / "schemathesis"), "run", str(schema), "--url", url,
               "--checks", checks, "--phases", phases, "--max-examples", EXAMPLES,
               "--workers", "2", "--no-color", "--seed", "11", *extra]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(HERE)}
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp, env=env, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    return output


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff"])
def test_schemathesis_finds_no_server_error_in_our_graphql(
    tools_python, store, issuer, tmp_path, who
):
    every = ("MANAGE_USERS", "MANAGE_ORDERS", "MANAGE_SETTINGS", "MANAGE_STAFF")
    token = {
        "anonymous": None,
        "customer": issuer.token(user_id=ANNA, email="anna.mueller@example.de", ttl=900),
        "staff": issuer.token(user_id="VXNlcjox", staff=True, permissions=every, ttl=900),
    }[who]
    with server(database_url(), tmp_path / "server.log", dispatch="eager") as webhooks:
        graphql = webhooks.replace("/api/webhooks", "/graphql/")
        extra = ("--header", f"Authorization: Bearer {token}") if token else ()
        output = run_schemathesis(
            tools_python,
            ROOT / "schema.graphql",
            graphql,
            "crm_errors_are_coded",
            "examples,fuzzing",
            tmp_path,
            *extra,
        )
    # Every root field of the schema was exercised, not a handful.
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    tested = re.search(r"Tested: (\d+)", output)
    assert selected and tested, output[-3000:]
    assert int(tested[1]) == int(selected[1]) == int(selected[2])


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer_in_our_http_doors(
    tools_python, tenant, tmp_path
):
    """Every operation of docs/openapi.yaml (the webhook doors, registration, the links of our
    messages, operations): never a 5xx, and every status, content type and JSON body as the
    document says. Registration is limited to one Saleor that is not this one, so made-up
    installs are refused (403) without calling out to made-up hosts."""
    with server(
        database_url(),
        tmp_path / "server.log",
        dispatch="eager",
        env={"CRM_ALLOWED_SALEOR_API_URLS": "https://allowed-saleor.invalid/graphql/"},
    ) as webhooks:
        base = webhooks.replace("/api/webhooks", "")
        run_schemathesis(
            tools_python,
            ROOT / "docs" / "openapi.yaml",
            base,
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "examples,coverage,fuzzing",
            tmp_path,
        )

"""The CRM as a federation subgraph: ``User.crmProfile`` next to Saleor's graph.

A gateway fetches ``_service { sdl }`` once, then for ``me { crmProfile }`` asks Saleor for the
user's id and us for ``_entities(representations: [{__typename: "User", id}])``, forwarding the
caller's token. These tests play the gateway's part against the real endpoint, then check the SDL
against Saleor's own subgraph SDL (graphql-core 3) and, when node is at hand, compose both with
Apollo's composition library as a gateway would.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.limits import MAX_COST
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from tests.graphql.conftest import ANNA, YUKI

ROOT = Path(__file__).resolve().parents[2]
SALEOR_SDL = (ROOT / ".." / "shared" / "saleor" / "federation.graphql").resolve()
TOOL_ENV = ROOT / "tools" / "tool-env.sh"
NODE_TOOLS = ROOT / ".tools-node"
NODE_PACKAGES = ("@apollo/composition@2.14.4", "graphql@16.15.0")
STAFF = "VXNlcjoyMQ=="
NOBODY = base64.b64encode(b"User:999999").decode()

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on User { id crmProfile { ordersCount country spentGross { amount currency } } }
  }
}
"""
SDL = "{ _service { sdl } }"

needs_saleor_sdl = pytest.mark.skipif(
    not SALEOR_SDL.is_file(), reason=f"Saleor's subgraph SDL is not at {SALEOR_SDL}"
)


def user(user_id: str, **extra: str) -> dict[str, str]:
    return {"__typename": "User", "id": user_id, **extra}


def code(error: dict) -> str:
    return error["extensions"]["exception"]["code"]


@pytest.fixture
def staff_token(issuer) -> str:
    return issuer.token(user_id=STAFF, staff=True, permissions=("MANAGE_USERS",))


@pytest.fixture
def sdl(gql) -> str:
    result = gql(SDL)
    assert "errors" not in result, result
    return str(result["data"]["_service"]["sdl"])


# --- _service ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sdl_extends_saleors_user_by_id_and_email(sdl):
    assert 'extend type User @key(fields: "id") @key(fields: "email") {\n' in sdl
    assert "  id: ID! @external\n" in sdl and "  email: String! @external\n" in sdl
    assert "  crmProfile: CRMUserProfile\n" in sdl
    assert "type CRMUserProfile {" in sdl
    assert "crmCustomer(" in sdl and "crmTrack(" in sdl


@pytest.mark.django_db
def test_sdl_leaves_out_the_protocols_own_names(sdl):
    """A gateway adds _service/_entities itself; defining them twice breaks composition."""
    for name in ("_entities", "_service", "_Any", "_Entity", "_Service", "type User {"):
        assert name not in sdl


# --- _entities --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_read_any_users_profile_in_representation_order(gql, store, staff_token):
    result = gql(ENTITIES, {"representations": [user(YUKI), user(ANNA)]}, staff_token)
    assert "errors" not in result, result
    yuki, anna = result["data"]["_entities"]
    assert (yuki["__typename"], yuki["id"]) == ("User", YUKI)
    assert yuki["crmProfile"]["spentGross"] == {"amount": 97.49, "currency": "EUR"}
    assert anna["id"] == ANNA
    assert anna["crmProfile"] == {
        "ordersCount": 2,
        "country": "DE",
        "spentGross": {"amount": 196.6, "currency": "EUR"},
    }


@pytest.mark.django_db
def test_a_customer_reads_their_own_profile(gql, store, issuer):
    result = gql(ENTITIES, {"representations": [user(ANNA)]}, issuer.token(user_id=ANNA))
    assert "errors" not in result, result
    assert result["data"]["_entities"][0]["crmProfile"]["spentGross"]["amount"] == 196.6


@pytest.mark.django_db
def test_a_customer_never_reads_another_customers_profile(gql, store, issuer):
    result = gql(
        ENTITIES, {"representations": [user(ANNA), user(YUKI)]}, issuer.token(user_id=ANNA)
    )
    anna, yuki = result["data"]["_entities"]
    assert anna["crmProfile"]["ordersCount"] == 2
    assert yuki == {"__typename": "User", "id": YUKI, "crmProfile": None}
    [error] = result["errors"]
    assert code(error) == "PermissionDenied"
    assert error["path"] == ["_entities", 1, "crmProfile"]
    assert "97.49" not in json.dumps(result)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "staff_without_manage_users"])
def test_others_get_null_and_an_error(gql, store, issuer, who):
    token = {
        "anonymous": None,
        "staff_without_manage_users": issuer.token(
            user_id=STAFF, staff=True, permissions=("MANAGE_ORDERS",)
        ),
    }[who]
    result = gql(ENTITIES, {"representations": [user(ANNA)]}, token)
    assert result["data"]["_entities"][0]["crmProfile"] is None
    assert [code(e) for e in result["errors"]] == ["PermissionDenied"]


@pytest.mark.django_db
def test_staff_without_manage_users_still_see_their_own_profile_as_crm_me_does(gql, store, issuer):
    token = issuer.token(user_id=ANNA, staff=True, permissions=("MANAGE_ORDERS",))
    result = gql(ENTITIES, {"representations": [user(ANNA)]}, token)
    assert "errors" not in result, result
    assert result["data"]["_entities"][0]["crmProfile"]["ordersCount"] == 2


@pytest.mark.django_db
def test_an_unknown_user_has_no_profile_and_no_error(gql, store, staff_token):
    result = gql(ENTITIES, {"representations": [user(NOBODY)]}, staff_token)
    assert "errors" not in result, result
    assert result["data"]["_entities"] == [{"__typename": "User", "id": NOBODY, "crmProfile": None}]


@pytest.mark.django_db
def test_extra_key_fields_such_as_email_are_ignored(gql, store, staff_token):
    representation = user(ANNA, email="yuki@example.jp")
    result = gql(ENTITIES, {"representations": [representation]}, staff_token)
    assert result["data"]["_entities"][0]["crmProfile"]["country"] == "DE"


EMAIL_ENTITIES = ENTITIES.replace("... on User { id ", "... on User { email ")


@pytest.mark.django_db
def test_staff_join_by_email_as_saleors_second_key(gql, store, staff_token):
    reps = [{"__typename": "User", "email": "Anna.Mueller@Example.de"}]
    result = gql(EMAIL_ENTITIES, {"representations": reps}, staff_token)
    assert "errors" not in result, result
    [anna] = result["data"]["_entities"]
    assert anna["email"] == "anna.mueller@example.de"
    assert anna["crmProfile"]["ordersCount"] == 2


@pytest.mark.django_db
def test_a_customer_by_email_sees_only_their_own(gql, store, issuer):
    token = issuer.token(user_id=ANNA, email="anna.mueller@example.de")
    own = {"__typename": "User", "email": "anna.mueller@example.de"}
    other = {"__typename": "User", "email": "yuki.tanaka@example.jp"}
    result = gql(EMAIL_ENTITIES, {"representations": [own, other]}, token)
    mine, theirs = result["data"]["_entities"]
    assert mine["crmProfile"]["ordersCount"] == 2
    assert theirs["crmProfile"] is None
    assert [code(e) for e in result["errors"]] == ["PermissionDenied"]
    assert "97.49" not in json.dumps(result)


@pytest.mark.django_db
def test_a_page_of_entities_is_one_profile_query(
    gql, store, staff_token, django_assert_max_num_queries
):
    reps = [user(ANNA), user(YUKI), user(NOBODY), {"__typename": "User", "email": "x@example.com"}]
    query = ENTITIES.replace("... on User { id ", "... on User { ")  # as a gateway asks
    gql(query, {"representations": reps}, staff_token)  # warm caches (tenant, JWKS)
    with django_assert_max_num_queries(2):  # the tenant of the token, then the profiles
        result = gql(query, {"representations": reps}, staff_token)
    assert "errors" not in result, result
    assert [e["crmProfile"] is not None for e in result["data"]["_entities"]] == [
        True,
        True,
        False,
        False,
    ]


@pytest.mark.django_db
def test_inline_representations_work_as_variables_do(gql, store, staff_token):
    query = (
        f'{{ _entities(representations: [{{__typename: "User", id: "{ANNA}"}}]) {{'
        " ... on User { crmProfile { ordersCount } } } }"
    )
    result = gql(query, token=staff_token)
    assert "errors" not in result, result
    assert result["data"]["_entities"] == [{"crmProfile": {"ordersCount": 2}}]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "representation",
    [
        pytest.param({"__typename": "Order", "id": ANNA}, id="not-an-entity-here"),
        pytest.param(user(base64.b64encode(b"Order:46").decode()), id="order-id"),
        pytest.param(user("not-a-global-id"), id="garbage-id"),
        pytest.param({"__typename": "User"}, id="no-key"),
        pytest.param({"__typename": "User", "email": "not-an-address"}, id="bad-email"),
        pytest.param("User:46", id="not-an-object"),
    ],
)
def test_a_bad_representation_fails_alone(gql, store, staff_token, representation):
    result = gql(ENTITIES, {"representations": [representation, user(ANNA)]}, staff_token)
    bad, anna = result["data"]["_entities"]
    assert bad is None
    assert anna["crmProfile"]["ordersCount"] == 2
    [error] = result["errors"]
    assert error["path"] == ["_entities", 0]
    assert code(error) == "GRAPHQL_ERROR"


@pytest.mark.django_db
def test_representations_are_capped_like_any_query(store):
    """The HTTP body limit already keeps gateways far below this; other doors might not."""
    principal = Principal(
        PrincipalKind.STAFF, tenant=store, user_id=STAFF, permissions=frozenset({"MANAGE_USERS"})
    )
    result = schema.execute(
        ENTITIES,
        variable_values={"representations": [user(ANNA)] * (MAX_COST + 1)},
        context_value=CRMContext(principal=principal),
    )
    assert result.data is None
    assert f"At most {MAX_COST}" in str(result.errors[0])


# --- against Saleor's subgraph ----------------------------------------------------------------

GRAPHQL_CORE_3_CHECK = r"""
import json, sys
from graphql import build_schema, parse, print_type, validate_schema
from graphql.language import ObjectTypeDefinitionNode, ObjectTypeExtensionNode, print_ast

FEDERATION_1 = '''
scalar _FieldSet
directive @key(fields: _FieldSet!) repeatable on OBJECT | INTERFACE
directive @external on FIELD_DEFINITION | OBJECT
directive @requires(fields: _FieldSet!) on FIELD_DEFINITION
directive @provides(fields: _FieldSet!) on FIELD_DEFINITION
directive @extends on OBJECT | INTERFACE
'''

def user_node(document, kind):
    return next(d for d in document.definitions if isinstance(d, kind) and d.name.value == "User")

def keys(node):
    return [print_ast(a.value).strip('"') for d in node.directives or () if d.name.value == "key"
            for a in d.arguments if a.name.value == "fields"]

def fields(node):
    return {f.name.value: {"type": print_ast(f.type),
                           "directives": [d.name.value for d in f.directives or ()]}
            for f in node.fields or ()}

saleor_sdl, crm_sdl = (open(path, encoding="utf-8").read() for path in sys.argv[1:3])
crm = user_node(parse(crm_sdl), ObjectTypeExtensionNode)
saleor = user_node(parse(saleor_sdl), ObjectTypeDefinitionNode)
# Our SDL must stand on its own: a bare User for the extension, the directives a gateway knows.
built = build_schema(FEDERATION_1 + "type User\n" + crm_sdl)
print(json.dumps({
    "crm_keys": keys(crm), "crm_fields": fields(crm),
    "saleor_keys": keys(saleor), "saleor_fields": fields(saleor),
    "schema_errors": [e.message for e in validate_schema(built)],
    "built_user": print_type(built.type_map["User"]),
}))
"""

COMPOSE = r"""
const { readFileSync } = require("node:fs");
const { composeServices } = require("@apollo/composition");
const { parse, validate } = require("graphql");
const [saleor, crm, ...queries] = process.argv.slice(1);
const subgraph = (name, path) =>
  ({ name, url: `http://${name}.test/graphql/`, typeDefs: parse(readFileSync(path, "utf8")) });
const result = composeServices([subgraph("saleor", saleor), subgraph("crm", crm)]);
if (result.errors) {
  console.log(JSON.stringify({ errors: result.errors.map(String) }));
} else {
  const api = result.schema.toAPISchema().toGraphQLJSSchema();
  console.log(JSON.stringify({
    errors: [],
    queries: queries.map(q => validate(api, parse(q)).map(e => e.message)),
  }));
}
"""

GATEWAY_QUERIES = (
    "{ me { email crmProfile { ordersCount spentGross { amount currency } } } }",
    'query { user(id: "VXNlcjo0Ng==") { email crmProfile { country timeZone lastOrderAt } } }',
    "{ crmMe { ordersCount } }",
)


@pytest.fixture(scope="module")
def tools_python() -> Path:
    """The python of ``.tools-venv`` (graphql-core 3), created on first use."""
    done = subprocess.run(
        ["bash", str(TOOL_ENV)], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"tools/tool-env.sh failed:\n{done.stdout}\n{done.stderr}"
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def sdl_file(sdl, tmp_path) -> Path:
    path = tmp_path / "crm.graphql"
    path.write_text(sdl, encoding="utf-8")
    return path


@needs_saleor_sdl
@pytest.mark.django_db
def test_sdl_is_valid_for_graphql_core_3_and_keys_exist_on_saleors_user(tools_python, sdl_file):
    done = subprocess.run(
        [str(tools_python), "-c", GRAPHQL_CORE_3_CHECK, str(SALEOR_SDL), str(sdl_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["schema_errors"] == []
    assert "crmProfile: CRMUserProfile" in found["built_user"]
    assert found["crm_keys"] == ["id", "email"]
    for key in found["crm_keys"]:
        assert key in found["saleor_keys"], "Saleor must resolve User by our key"
        for name in key.split():
            ours, saleors = found["crm_fields"][name], found["saleor_fields"].get(name)
            assert saleors is not None, f"Saleor's User has no {name}"
            assert ours["type"] == saleors["type"]
            assert ours["directives"] == ["external"]
    added = set(found["crm_fields"]) - set(found["saleor_fields"])
    assert added == {"crmProfile"}


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """``.tools-node`` with Apollo's composition library; skips when node or npm cannot help."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to compose with @apollo/composition")
    if not (NODE_TOOLS / "node_modules" / "@apollo" / "composition").is_dir():
        NODE_TOOLS.mkdir(exist_ok=True)
        package = NODE_TOOLS / "package.json"
        if not package.exists():
            package.write_text('{"private": true}\n', encoding="utf-8")
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--silent", *NODE_PACKAGES],
                cwd=NODE_TOOLS,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("npm install of @apollo/composition timed out")
        if done.returncode != 0:
            pytest.skip(f"npm could not install @apollo/composition: {done.stderr[-500:]}")
    return NODE_TOOLS


@needs_saleor_sdl
@pytest.mark.django_db
def test_composes_with_saleors_subgraph(node_tools, sdl_file):
    done = subprocess.run(
        ["node", "-e", COMPOSE, str(SALEOR_SDL), str(sdl_file), *GATEWAY_QUERIES],
        cwd=node_tools,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    composed = json.loads(done.stdout)
    assert composed["errors"] == []
    assert composed["queries"] == [[] for _ in GATEWAY_QUERIES]

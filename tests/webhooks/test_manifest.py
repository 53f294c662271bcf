"""The app manifest Saleor installs us from: right events, right URLs, queries Saleor accepts.

Saleor only reports a bad subscription query when a merchant installs the app, so the queries are
validated here against Saleor 3.24's schema with graphql-core 3 (in ``.tools-venv``, see
``tools/tool-env.sh``; the runtime's graphql-core 2 cannot parse that schema).

No database and no Django settings are needed: the manifest is pure data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import parse  # graphql-core 2 in the runtime venv: enough to parse a query

from saleor_crm_plugin import __version__
from saleor_crm_plugin.webhooks.manifest import (
    PERMISSIONS,
    RECORDING_ADDITIONS,
    WEBHOOK_EVENTS,
    build_manifest,
    subscription_query,
)
from tests import recordings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = (ROOT / ".." / "shared" / "saleor" / "schema.graphql").resolve()
TOOL_ENV = ROOT / "tools" / "tool-env.sh"
VALIDATOR = ROOT / "tools" / "validate_graphql.py"
RECORDED_QUERIES = recordings.FIXTURES / "queries"
BASE = "https://crm.example.com/saleor/"

EXPECTED_EVENTS = (
    "order_created",
    "order_updated",
    "order_confirmed",
    "order_paid",
    "order_fully_paid",
    "order_cancelled",
    "order_refunded",
    "order_fully_refunded",
    "order_fulfilled",
    "checkout_created",
    "checkout_updated",
    "checkout_fully_paid",
    "customer_created",
    "customer_updated",
    "customer_metadata_updated",
    "customer_deleted",
    "account_confirmed",
    "account_deleted",
)
DELETION_EVENTS = ("customer_deleted", "account_deleted")

needs_schema = pytest.mark.skipif(
    not SCHEMA.is_file(), reason=f"Saleor's schema is not at {SCHEMA} (../shared not checked out)"
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return build_manifest(BASE)


@pytest.fixture(scope="module")
def tools_python() -> Path:
    """The python of ``.tools-venv`` (graphql-core 3), created on first use."""
    done = subprocess.run(
        ["bash", str(TOOL_ENV)], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"tools/tool-env.sh failed:\n{done.stdout}\n{done.stderr}"
    python = Path(done.stdout.strip().splitlines()[-1])
    assert python.is_file(), done.stdout
    return python


def validate(python: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), str(VALIDATOR), str(SCHEMA), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def selected_paths(query: str) -> set[tuple[str, ...]]:
    """Every response path a query selects, fragments expanded (type conditions ignored)."""
    document = parse(query)
    fragments = {
        d.name.value: d for d in document.definitions if type(d).__name__ == "FragmentDefinition"
    }
    operation = next(d for d in document.definitions if type(d).__name__ == "OperationDefinition")

    def walk(selection_set: Any, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        for selection in selection_set.selections:
            kind = type(selection).__name__
            if kind == "Field":
                path = (*prefix, (selection.alias or selection.name).value)
                yield path
                if selection.selection_set:
                    yield from walk(selection.selection_set, path)
            elif kind == "InlineFragment":
                yield from walk(selection.selection_set, prefix)
            elif kind == "FragmentSpread":
                yield from walk(fragments[selection.name.value].selection_set, prefix)

    return set(walk(operation.selection_set, ()))


def test_manifest_lists_exactly_the_crm_events(manifest):
    assert WEBHOOK_EVENTS == EXPECTED_EVENTS
    assert [w["name"] for w in manifest["webhooks"]] == list(EXPECTED_EVENTS)
    for webhook in manifest["webhooks"]:
        assert webhook["asyncEvents"] == [webhook["name"].upper()]
        assert "syncEvents" not in webhook
        assert webhook["isActive"] is True
        assert webhook["query"] == subscription_query(webhook["name"])


def test_manifest_identity_and_permissions(manifest):
    assert manifest["id"] == "saleor.crm"
    assert manifest["version"] == __version__
    assert manifest["name"] == "CRM"
    assert manifest["permissions"] == PERMISSIONS
    assert manifest["requiredSaleorVersion"] == "^3.22"  # Order transactions' card details
    assert "NAVIGATION_CUSTOMERS" in {e["mount"] for e in manifest["extensions"]}
    assert "configurationUrl" not in manifest
    assert "brand" not in manifest


def test_every_url_is_under_the_base_url(manifest):
    base = BASE.rstrip("/")
    assert manifest["appUrl"] == f"{base}/dashboard"
    assert manifest["tokenTargetUrl"] == f"{base}/api/register"
    urls = [manifest["tokenTargetUrl"], manifest["appUrl"]]
    urls += [w["targetUrl"] for w in manifest["webhooks"]]
    for url in urls:
        assert url.startswith(f"{base}/"), url
        assert "//" not in url.removeprefix("https://"), url
    assert {w["targetUrl"] for w in manifest["webhooks"]} == {f"{base}/api/webhooks"}


@pytest.mark.parametrize("event", EXPECTED_EVENTS)
def test_queries_are_the_recorded_ones(event):
    """Same query, same payload shape as the recorded deliveries the other tests replay, but for
    the order fields added since the recording (each applied exactly where it belongs)."""
    recorded = RECORDED_QUERIES / f"{event}.graphql"
    if event in DELETION_EVENTS:
        recorded = RECORDED_QUERIES / f"{event}.no-private-metadata.graphql"
    expected = recorded.read_text(encoding="utf-8")
    if event.startswith("order_"):
        for old, new in RECORDING_ADDITIONS:
            assert expected.count(old) == 1, old
            expected = expected.replace(old, new)
    assert subscription_query(event) == expected


@pytest.mark.parametrize("event", DELETION_EVENTS)
def test_deletion_queries_do_not_select_what_made_saleor_drop_the_user(event):
    """Saleor checks permissions after the user is gone: selecting ``user.privateMetadata`` on a
    deletion event turns the whole ``user`` into null (deliveries 115 and 119)."""
    refused = [d for d in recordings.deliveries() if d.event == event and b'"errors"' in d.body]
    assert refused, f"no recorded {event} delivery with errors"
    paths = selected_paths(subscription_query(event))
    for delivery in refused:
        body = json.loads(delivery.body)
        assert body["user"] is None
        for error in body["errors"]:
            assert error["extensions"]["exception"]["code"] == "PermissionDenied"
            assert tuple(error["path"]) == ("event", "user", "privateMetadata")
            assert tuple(error["path"]) not in paths
    assert "privateMetadata" not in subscription_query(event)


@pytest.mark.parametrize("event", DELETION_EVENTS)
def test_deletion_queries_get_the_full_user(event):
    """Deliveries sent with our query (120, 121, 125) carry the user with exactly our fields."""
    paths = selected_paths(subscription_query(event))
    selected = {p[2] for p in paths if len(p) == 3 and p[:2] == ("event", "user")}
    accepted = [
        json.loads(d.body)
        for d in recordings.deliveries()
        if d.event == event and b'"errors"' not in d.body
    ]
    full = [body for body in accepted if body["user"] is not None]
    assert full, f"no recorded {event} delivery with a user"
    for body in full:
        assert set(body["user"]) == selected


def test_manifest_import_needs_no_django():
    code = (
        "import sys, saleor_crm_plugin.webhooks.manifest as m; "
        "m.build_manifest('http://x'); "
        "sys.exit(1 if 'django' in sys.modules else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr or "django was imported"


@needs_schema
def test_manifest_queries_validate_against_saleor_schema(manifest, tools_python, tmp_path):
    path = write_json(tmp_path / "manifest.json", manifest)
    done = validate(tools_python, "--manifest-json", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("OK") == len(EXPECTED_EVENTS)


@needs_schema
@pytest.mark.parametrize("form", ["query-file", "manifest-json"])
def test_invalid_query_is_refused_and_named(manifest, tools_python, tmp_path, form):
    bad_field = "crmNoSuchOrderField"
    broken = subscription_query("order_created").replace(
        "fragment OrderFields on Order {\n", f"fragment OrderFields on Order {{\n  {bad_field}\n"
    )
    assert bad_field in broken
    if form == "query-file":
        target = tmp_path / "order_created.graphql"
        target.write_text(broken, encoding="utf-8")
        done = validate(tools_python, target)
    else:
        webhooks = [
            {**w, "query": broken} if w["name"] == "order_created" else w
            for w in manifest["webhooks"]
        ]
        target = write_json(tmp_path / "manifest.json", {**manifest, "webhooks": webhooks})
        done = validate(tools_python, "--manifest-json", target)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Cannot query field '{bad_field}' on type 'Order'" in done.stdout
    assert "INVALID" in done.stdout and "order_created" in done.stdout


def test_order_webhooks_carry_the_legacy_payments_psp_reference(manifest):
    """Orders paid through Saleor's legacy payment plugins (Stripe, Adyen) are linked to the
    provider's refunds and disputes by the payment's PSP reference, as transactions are."""
    import re

    orders = [w for w in manifest["webhooks"] if w["name"].startswith("order")]
    assert orders
    for webhook in orders:
        selected = re.search(r"payments \{([^}]*)", webhook["query"])
        assert selected and "pspReference" in selected.group(1).split(), webhook["name"]

"""Every backfill query validates against Saleor 3.24's schema (graphql-core 3, ``.tools-venv``).

The customers and orders queries also equal the recorded ones Saleor answered; the checkouts
query has no recording, so this is what proves Saleor would accept it.
"""

from __future__ import annotations

import pytest

from saleor_crm_plugin.backfill.queries import RESOURCES
from tests.webhooks.test_manifest import needs_schema, tools_python, validate

__all__ = ["tools_python"]  # the fixture, imported to be shared


@needs_schema
@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_the_backfill_query_validates_against_saleors_schema(resource, tools_python, tmp_path):
    path = tmp_path / f"{resource.name}.graphql"
    path.write_text(resource.query, encoding="utf-8")
    done = validate(tools_python, path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout


@needs_schema
def test_a_checkouts_query_saleor_would_refuse_is_caught(tools_python, tmp_path):
    (checkouts,) = [r for r in RESOURCES if r.name == "checkouts"]
    path = tmp_path / "checkouts.graphql"
    path.write_text(checkouts.query.replace("CREATION_DATE", "CREATED_AT"), encoding="utf-8")
    done = validate(tools_python, path)
    assert done.returncode == 1 and "CREATED_AT" in done.stdout

from pathlib import Path

from saleor_crm_plugin.graphql.schema import schema

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_committed_schema_is_current():
    """Storefront and dashboard developers read schema.graphql; it must match the code.

    Regenerate with: saleor-crm export-schema > schema.graphql
    """
    assert SCHEMA_FILE.read_text().rstrip() == str(schema).rstrip()


def test_export_schema_needs_no_database(tmp_path):
    """Printing the schema on a machine without PostgreSQL prints it and starts no server."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CRM_DATA_DIR"] = str(tmp_path / "data")
    out = subprocess.run(
        [sys.executable, "-m", "saleor_crm_plugin.cli", "export-schema"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    assert out.stdout.rstrip() == SCHEMA_FILE.read_text().rstrip()
    assert not (tmp_path / "data").exists()

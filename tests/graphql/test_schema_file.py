from pathlib import Path

from saleor_crm_plugin.graphql.schema import schema

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_committed_schema_is_current():
    """Storefront and dashboard developers read schema.graphql; it must match the code.

    Regenerate with: saleor-crm export-schema > schema.graphql
    """
    assert SCHEMA_FILE.read_text().rstrip() == str(schema).rstrip()

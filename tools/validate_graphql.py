"""Validate Saleor subscription queries against Saleor's SDL schema.

Saleor creates a webhook from the manifest only if its subscription query validates; a bad query
shows up as a failed app install, long after the code was merged. This catches it at test time.

It runs in a separate virtualenv (``tools/tool-env.sh`` creates ``.tools-venv``) because it needs
graphql-core 3: Saleor's schema uses SDL that graphql-core 2 (pinned by our runtime through
graphene 2) cannot parse.

Usage::

    validate_graphql.py SCHEMA_FILE [QUERY_FILE ...] [--manifest-json MANIFEST_FILE ...]

Prints one line per query (``OK`` or ``INVALID`` with the errors) and exits 1 when any query is
invalid, 2 when the schema or an input file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

try:
    from graphql import GraphQLError, GraphQLSchema, build_schema, parse, validate
except ImportError:  # pragma: no cover - depends on the interpreter it is run with
    sys.stderr.write(
        "validate_graphql.py needs graphql-core>=3.2,<4; run it with the python printed by "
        "tools/tool-env.sh (.tools-venv/bin/python)\n"
    )
    sys.exit(2)


def query_errors(schema: GraphQLSchema, source: str) -> list[str]:
    """Human-readable errors for ``source`` against ``schema``; empty when it is valid."""
    try:
        document = parse(source)
    except GraphQLError as exc:
        return [_format(exc)]
    return [_format(error) for error in validate(schema, document)]


def _format(error: GraphQLError) -> str:
    where = ", ".join(f"{loc.line}:{loc.column}" for loc in error.locations or ())
    return f"{where}: {error.message}" if where else error.message


def _manifest_queries(path: Path) -> Iterator[tuple[str, str]]:
    """``(label, query)`` for every ``webhooks[].query`` in a manifest JSON file."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    webhooks = manifest.get("webhooks") if isinstance(manifest, dict) else None
    if not isinstance(webhooks, list):
        raise ValueError(f"{path}: no 'webhooks' list in the manifest")
    for index, webhook in enumerate(webhooks):
        name = webhook.get("name", "?") if isinstance(webhook, dict) else "?"
        label = f"{path}#webhooks[{index}] ({name})"
        query = webhook.get("query") if isinstance(webhook, dict) else None
        if not isinstance(query, str):
            raise ValueError(f"{label}: no 'query' string")
        yield label, query


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", type=Path, help="Saleor schema.graphql (SDL)")
    parser.add_argument("queries", type=Path, nargs="*", help=".graphql files with one query each")
    parser.add_argument(
        "--manifest-json",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="validate every webhooks[].query of this app manifest (repeatable)",
    )
    args = parser.parse_args(argv)
    if not args.queries and not args.manifest_json:
        parser.error("give at least one QUERY_FILE or --manifest-json FILE")

    try:
        schema = build_schema(args.schema.read_text(encoding="utf-8"))
        targets: list[tuple[str, str]] = [
            (str(path), path.read_text(encoding="utf-8")) for path in args.queries
        ]
        for manifest in args.manifest_json:
            targets.extend(_manifest_queries(manifest))
    except (OSError, ValueError, GraphQLError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    invalid = 0
    for label, source in targets:
        errors = query_errors(schema, source)
        if errors:
            invalid += 1
            print(f"INVALID {label}")
            for error in errors:
                print(f"    {error}")
        else:
            print(f"OK      {label}")
    if invalid:
        print(f"{invalid} of {len(targets)} queries invalid", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

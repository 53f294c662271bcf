#!/usr/bin/env bash
# Create (or reuse) .tools-venv: a virtualenv for developer tools that cannot live in the runtime
# venv: graphql-core 3 for tools/validate_graphql.py (our runtime pins graphene 2 / graphql-core 2,
# Saleor 3.24's versions, which cannot parse Saleor's schema.graphql), and schemathesis, whose
# GraphQL strategies build on graphql-core 3 too (tests/security/test_schemathesis.py).
#
# Idempotent: when the venv already has a matching graphql-core it only prints the path.
# Prints the path of the venv's python on stdout (everything else goes to stderr), so callers can
#   PY="$(tools/tool-env.sh)" && "$PY" tools/validate_graphql.py ...
# TOOLS_VENV overrides the location (default: <repo>/.tools-venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TOOLS_VENV:-$ROOT/.tools-venv}"
PY="$VENV/bin/python"
REQUIREMENT='graphql-core>=3.2,<4'
SCHEMATHESIS='schemathesis==4.32.5'

has_graphql_core() {
    "$PY" - <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version

major, minor = (int(part) for part in version("graphql-core").split(".")[:2])
sys.exit(0 if major == 3 and minor >= 2 and version("schemathesis") == "4.32.5" else 1)
EOF
}

if [[ -x "$PY" ]] && has_graphql_core; then
    echo "$PY"
    exit 0
fi

if ! [[ -x "$PY" ]] || ! "$PY" -c '' 2>/dev/null; then
    # Missing or broken (e.g. its base interpreter was removed): build it afresh.
    if command -v python3.12 >/dev/null 2>&1 && PYENV_VERSION=3.12.1 python3.12 -c '' 2>/dev/null; then
        echo "tool-env: creating $VENV with python3.12" >&2
        rm -rf -- "$VENV"
        PYENV_VERSION=3.12.1 python3.12 -m venv "$VENV"
    else
        echo "tool-env: python3.12 not found; creating $VENV with python3" >&2
        rm -rf -- "$VENV"
        python3 -m venv "$VENV"
    fi
fi

echo "tool-env: installing $REQUIREMENT $SCHEMATHESIS into $VENV" >&2
"$PY" -m pip install --quiet --disable-pip-version-check "$REQUIREMENT" "$SCHEMATHESIS" >&2
has_graphql_core || { echo "tool-env: graphql-core is still missing in $VENV" >&2; exit 1; }
echo "$PY"

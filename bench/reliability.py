"""The reliability suite at the issue's full sizes (CI runs the same tests reduced).

Usage (PostgreSQL from ``DATABASE_URL``; pytest-django creates and drops ``test_<name>``;
Redis on 127.0.0.1:6379, database 11, is flushed)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_reliability \\
        .venv/bin/python bench/reliability.py [-k duplicates]

- duplicates and disorder: 10,000 events, each delivered 1-5 times from 32 senders, shuffled;
- worker loss: 10,000 events, the Celery worker killed with SIGKILL ten times;
- outages: 1,000 events, the database and then the broker unavailable for 60 s.

Each test prints its measured figures (lines starting ``[reliability]``); the exit status is
pytest's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    env = {**os.environ, "CRM_RELIABILITY_SIZE": "full"}
    command = [sys.executable, "-m", "pytest", "tests/reliability", "-q", "-s"]
    return subprocess.call([*command, *argv], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

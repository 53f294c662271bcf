"""CPU seconds used by groups of processes, read from ``/proc`` (Linux).

The rate figures of a benchmark swing with whatever else the machine runs; the CPU each part
spends per item does much less. ``bench/ingestion.py`` uses this to say where a delivery's
cost goes: the server's workers, their PostgreSQL backends, the load client, against the
floor's client and backends."""

from __future__ import annotations

import os
from collections.abc import Iterable

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of ``pid``, None once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_tree(root: int) -> set[int]:
    """``root`` and its descendants (a server's workers)."""
    parents = {pid: found[0] for pid in _pids() if (found := _stat(pid)) is not None}
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def backends(database: str) -> set[int]:
    """The PostgreSQL backends connected to ``database`` on this machine."""
    found = set()
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if command.startswith("postgres: ") and f" {database} " in command:
            found.add(pid)
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU seconds used so far by ``pids`` (those that have exited count nothing: measure
    before closing connections)."""
    return sum(found[1] for pid in pids if (found := _stat(pid)) is not None)

"""One beat at a time, however many machines start one.

Celery's beat keeps no lock of its own: two beats both publish every periodic task, so each
job runs twice (harmless for our idempotent jobs, but twice the load, and a daily job could
run twice around a deploy). We hold a PostgreSQL session advisory lock for the beat's whole
life, on a connection of its own: the first beat gets it, any other stands by and takes over
when the holder dies (PostgreSQL releases a session lock when its connection ends, including
when the process is killed). PostgreSQL, not Redis, because every deployment has it and a
lock there cannot outlive its holder by a TTL guess.

What we accept: if the lock's connection breaks while the beat lives (database restart,
network cut), another beat may take the lock, so the holder checks its lock every
``interval`` seconds and exits when it is gone (the process supervisor restarts it, as a
standby). In that gap both may publish a task once; our periodic tasks are safe to run twice.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)

BEAT_LOCK = (7324, 0)  # pg advisory lock (class, id); 7321-7323 are the inbox's and backfill's


class BeatLock:
    """The session advisory lock that makes one beat the beat, on its own connection."""

    def __init__(self, alias: str = "default") -> None:
        wrapper = connections[alias]
        self._conn: Any = wrapper.get_new_connection(wrapper.get_connection_params())
        self._conn.autocommit = True
        self.held = False

    def try_acquire(self) -> bool:
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", BEAT_LOCK).fetchone()
        self.held = bool(row and row[0])
        return self.held

    def wait(self, interval: float, on_wait: Callable[[], None] | None = None) -> None:
        """Block until this process holds the lock (standing by while another beat does)."""
        waited = False
        while not self.try_acquire():
            if on_wait is not None and not waited:
                on_wait()
            waited = True
            time.sleep(interval)

    def still_held(self) -> bool:
        """Whether the lock is still ours: False when its connection broke."""
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND classid = %s AND objid = %s",
                BEAT_LOCK,
            ).fetchone()
        except Exception:  # any failure of the connection means the lock may be gone
            return False
        return bool(row and row[0])

    def watch(self, interval: float, on_lost: Callable[[], None] | None = None) -> None:
        """Check the lock every ``interval`` seconds in a daemon thread; when it is lost,
        call ``on_lost`` (default: end the process at once, for the supervisor to restart)."""

        def run() -> None:
            while True:
                time.sleep(interval)
                if not self.still_held():
                    logger.error("beat lock lost; exiting so that only one beat runs")
                    (on_lost or _exit)()
                    return

        threading.Thread(target=run, name="crm-beat-lock", daemon=True).start()

    def close(self) -> None:
        self.held = False
        try:
            self._conn.close()
        except Exception:
            logger.warning("closing the beat lock connection failed", exc_info=True)


def _exit() -> None:
    os._exit(3)

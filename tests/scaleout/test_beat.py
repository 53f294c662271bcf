"""One beat at a time: a second stands by and takes over when the first is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connections

from saleor_crm_plugin.scaleout.beat import BeatLock

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/7"  # this area's Redis database

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_lock_has_one_holder_until_it_lets_go():
    first, second = BeatLock(), BeatLock()
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        assert first.still_held() and not second.still_held()
        first.close()  # as when the process dies: PostgreSQL ends the session's locks
        # ... once the server has noticed the closed connection: the backend ends on its own time.
        deadline = time.monotonic() + 10
        while not second.try_acquire() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.held is True
    finally:
        first.close()
        second.close()


def test_a_broken_lock_connection_is_noticed():
    lock = BeatLock()
    lost: list[bool] = []
    try:
        assert lock.try_acquire()
        lock.watch(0.1, on_lost=lambda: lost.append(True))
        with connections["default"].cursor() as cur:  # the database drops the connection
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = 7324 AND objid = 0"
            )
        deadline = time.monotonic() + 5
        while not lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lost == [True]
    finally:
        lock.close()


def _start(tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    out = tmp_path / f"{name}.log"
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "saleor_crm_plugin.cli", "beat", "--standby-interval", "0.5",
         "--schedule", str(tmp_path / f"{name}-schedule")],
        cwd=ROOT, env=env, stdout=out.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    return proc, out


def _wait_for(out: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in out.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {out.name}:\n{out.read_text(errors='replace')}")


def test_a_second_beat_stands_by_and_takes_over_when_the_first_is_killed(tmp_path):
    holding = "beat: holding the beat lock"
    first, first_out = _start(tmp_path, "first")
    second = None
    try:
        _wait_for(first_out, holding)
        _wait_for(first_out, "beat: Starting")  # Celery's beat is running
        second, second_out = _start(tmp_path, "second")
        _wait_for(second_out, "another beat holds the lock; standing by")
        time.sleep(2)
        assert holding not in second_out.read_text()  # still standing by

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)

        _wait_for(second_out, holding, timeout=30)
        _wait_for(second_out, "beat: Starting")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        redis.Redis.from_url(BROKER).flushdb()

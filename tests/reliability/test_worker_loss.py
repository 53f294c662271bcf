"""kill -9 of the Celery worker while it applies deliveries: nothing lost, nothing applied twice."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection

from .harness import (
    FULL,
    database_url,
    deliver,
    figures,
    inbox_states,
    kill_hard,
    report,
    server,
    start_worker,
    stop,
    wait_until_drained,
)
from .stream import generate

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 10_000 if FULL else 120
KILLS = 10 if FULL else 2
# At full size each worker keeps its task for a random moment first, so kills land at any point
# of a batch and work gets done between them; in CI it dies at once (a fixed, quick case).
HOLD = 3.0 if FULL else 0.0
# Redis's default visibility timeout (an unacked task comes back after it) plus two minutes.
# The rows a killed task held are pending again at once; the next drain or the sweep takes them.
DEADLINE = 3600 + 120


def test_killing_the_worker_repeatedly_loses_nothing_and_applies_nothing_twice(
    tmp_path, signer, broker_db
):
    events, expected = generate(EVENTS, seed=8)
    db = database_url()
    log = tmp_path / "worker.log"
    workers: list = []
    kills: list[int] = []  # deliveries still pending at each kill
    last_kill = [0.0]

    rng = random.Random(8)

    def received() -> int:
        return log.read_text(errors="replace").count("] received") if log.exists() else 0

    def killer() -> None:
        # Kill each new worker as soon as it has taken a drain task, so every kill lands while
        # it has work in hand (a claimed batch, its transaction open), as an OOM kill would.
        try:
            for _ in range(KILLS):
                before = received()
                workers.append(start_worker(db, log, tmp_path))
                deadline = time.monotonic() + 60
                while received() == before and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0, HOLD))
                kill_hard(workers[-1])
                last_kill[0] = time.monotonic()
                kills.append(inbox_states()["pending"])
            workers.append(start_worker(db, log, tmp_path))
        finally:
            connection.close()

    with server(db, tmp_path / "server.log", dispatch="celery", broker=broker_db) as url:
        # The first half arrives before any worker runs, so the kills meet a backlog; the
        # second half arrives while the worker is being killed and restarted.
        started = time.monotonic()
        seen = deliver(url, events[: EVENTS // 2], signer, senders=32)
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        seen += deliver(url, events[EVENTS // 2 :], signer, senders=32)
        thread.join(timeout=DEADLINE)
        wait_until_drained(len(events), timeout=DEADLINE if FULL else 120)
        total = time.monotonic() - started
        drained = time.monotonic() - last_kill[0]
    for worker in workers:
        stop(worker)

    report(
        f"worker loss: {len(events)} events, {len(kills)} kill -9 (pending at each: {kills}), "
        f"all applied {total:.1f}s after the first delivery, within {drained:.1f}s of the last kill"
    )
    assert len(kills) == KILLS
    assert kills[0] > 0  # a kill met work in hand
    assert dict(seen) == {200: len(events)}
    assert inbox_states() == {"processed": len(events)}
    assert figures() == expected

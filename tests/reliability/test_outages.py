"""The database, then the broker, unavailable during deliveries: Saleor is asked to retry
(503) or the delivery is stored, never refused (4xx), and everything is applied after recovery."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from .harness import (
    BROKER_DB,
    FULL,
    TcpProxy,
    database_url,
    deliver,
    figures,
    inbox_states,
    report,
    server,
    start_worker,
    stop,
    wait_until_drained,
)
from .stream import generate

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 1_000 if FULL else 120
OUTAGE = 60.0 if FULL else 2.0


def test_database_then_broker_outage_answers_503_or_stores_and_applies_later(
    tmp_path, signer, broker_db
):
    events, expected = generate(EVENTS, seed=9)
    quarter = len(events) // 4
    # The server reaches PostgreSQL and Redis through proxies we can cut; the worker reaches
    # them directly, so what is tested is the door's and the dispatch's behaviour.
    database = TcpProxy(int(connection.settings_dict["PORT"] or 5432))
    broker = TcpProxy(6379)
    worker = start_worker(database_url(), tmp_path / "worker.log", tmp_path)
    try:
        with server(
            database_url(database.port),
            tmp_path / "server.log",
            dispatch="celery",
            broker=f"redis://127.0.0.1:{broker.port}/{BROKER_DB}",
            # A request waits this long for a pooled connection before its 503 (3 s by
            # default): shorter than the reduced run's outage, so the outage is met, not waited out.
            env={"DATABASE_POOL_TIMEOUT": str(min(OUTAGE / 4, 3.0))},
        ) as url:
            started = time.monotonic()
            seen = deliver(url, events[:quarter], signer)

            database.cut()
            threading.Timer(OUTAGE, database.restore).start()
            during_db = deliver(url, events[quarter : 2 * quarter], signer)

            broker.cut()
            cut_at = time.monotonic()
            during_broker = deliver(url, events[2 * quarter : 3 * quarter], signer)
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - cut_at)))
            broker.restore()
            seen += deliver(url, events[3 * quarter :], signer)

            drained = wait_until_drained(len(events), timeout=180)
            total = time.monotonic() - started
    finally:
        stop(worker)
        database.close()
        broker.close()

    report(
        f"outages: {len(events)} events, {OUTAGE:.0f}s database then broker outage; statuses "
        f"during the database outage {dict(during_db)}, during the broker outage "
        f"{dict(during_broker)}; all applied {total:.1f}s after the first delivery "
        f"({drained:.1f}s after the last)"
    )
    assert set(seen) == {200}
    assert set(during_db) == {200, 503}  # Saleor was asked to retry, then they were stored
    assert dict(during_broker) == {200: quarter}  # stored without the broker
    assert inbox_states() == {"processed": len(events)}
    assert figures() == expected

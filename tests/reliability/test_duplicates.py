"""Duplicates and disorder through the real webhook door: every event counted exactly once."""

from __future__ import annotations

import time

import pytest

from .harness import (
    FULL,
    copies,
    database_url,
    deliver,
    figures,
    inbox_states,
    report,
    server,
    wait_until_drained,
)
from .stream import generate

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 10_000 if FULL else 250


def test_each_event_sent_one_to_five_times_shuffled_counts_once(tmp_path, signer):
    events, expected = generate(EVENTS, seed=7)
    stream = copies(events, seed=7)
    with server(database_url(), tmp_path / "server.log", dispatch="thread") as url:
        started = time.monotonic()
        seen = deliver(url, stream, signer, senders=32)
        sent = time.monotonic() - started
        wait_until_drained(len(events), timeout=3600 if FULL else 60)
        done = time.monotonic() - started

    report(
        f"duplicates: {len(events)} events as {len(stream)} deliveries from 32 senders: "
        f"sent in {sent:.1f}s, drained in {done:.1f}s, statuses {dict(seen)}"
    )
    assert dict(seen) == {200: len(stream)}
    assert inbox_states() == {"processed": len(events)}
    assert figures() == expected  # no customer with an order or a point counted twice or missing

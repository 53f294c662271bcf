"""Real parts for the reliability suite: server and worker processes, a TCP proxy that can be
cut (a real outage to our code), Saleor-like senders, and the figures read back from the database.

Sizes: ``CRM_RELIABILITY_SIZE=full`` (``bench/reliability.py``) runs the issue's sizes; anything
else the reduced CI sizes.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests
from django.db import connection

from saleor_crm_plugin.demo.signing import DemoSigner

from .stream import Event, Figures

FULL = os.environ.get("CRM_RELIABILITY_SIZE", "") == "full"
API_URL = "http://saleor.reliability.localhost/graphql/"
# Redis database of the suite's broker; CRM_TEST_BROKER_DB lets runs side by side use their own.
BROKER_DB = int(os.environ.get("CRM_TEST_BROKER_DB", "11"))
BROKER = f"redis://127.0.0.1:6379/{BROKER_DB}"


def report(line: str) -> None:
    """Measured figures, shown with ``-s`` (the full-size command always shows them)."""
    print(f"[reliability] {line}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url(port: int | None = None) -> str:
    """The test database, optionally reached through another port (a proxy)."""
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}@{host}:{port or db['PORT'] or 5432}/{db['NAME']}"


def _env(db_url: str, dispatch: str, broker: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saleor_crm_plugin.project.settings",
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker,
        "CRM_INBOX_DISPATCH": dispatch,
        "CRM_BASE_CURRENCY": "EUR",
    }


@contextmanager
def server(
    db_url: str, log: Path, *, dispatch: str, broker: str = "", env: dict[str, str] | None = None
) -> Iterator[str]:
    """``saleor-crm serve`` (uvicorn) in its own process; yields the webhook URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "saleor_crm_plugin.cli", "serve", "--port", str(port)],
        env={**_env(db_url, dispatch, broker), **(env or {})},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/manifest", timeout=2)
                break
            except requests.ConnectionError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text()[-3000:]
                    raise AssertionError(f"the server did not start:\n{tail}") from exc
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/api/webhooks"
    finally:
        stop(process)


def start_worker(db_url: str, log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """A real Celery worker with beat (the sweep), in its own process group so that kill -9
    reaches the pool children too, as an OOM kill or a lost machine would."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "saleor_crm_plugin.cli",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "info",
            "--beat",
        ],
        env=_env(db_url, "celery", BROKER),
        cwd=cwd,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            pass
    kill_hard(process)


class TcpProxy:
    """Forwards a local port to ``target``. ``cut()`` closes the port and every open connection
    (what our code sees when the database or broker goes away); ``restore()`` listens again on
    the same port."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(256)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            try:  # wakes the thread blocked in accept(), so the port is free again at once
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def copies(events: Sequence[Event], seed: int, most: int = 5) -> list[Event]:
    """Each event 1 to ``most`` times, shuffled."""
    rng = random.Random(seed)
    stream = [e for e in events for _ in range(rng.randint(1, most))]
    rng.shuffle(stream)
    return stream


def deliver(
    url: str,
    stream: Sequence[Event],
    signer: DemoSigner,
    senders: int = 32,
    give_up_after: float = 300.0,
) -> Counter[int]:
    """Post every item from ``senders`` threads as Saleor does: signed, retried on 503 or a
    refused connection with backoff until accepted. Returns every status seen (0: no answer)."""
    signed: dict[bytes, dict[str, str]] = {}
    for item in stream:
        if item.body not in signed:
            signed[item.body] = signer.headers(item.event, item.body, API_URL)
    seen: Counter[int] = Counter()
    lock = threading.Lock()
    queue = list(reversed(stream))
    failures: list[str] = []

    def sender() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            deadline, pause = time.monotonic() + give_up_after, 0.1
            while True:
                try:
                    status = session.post(
                        url, data=item.body, headers=signed[item.body], timeout=20
                    ).status_code
                except requests.RequestException:
                    status = 0
                    session = requests.Session()
                with lock:
                    seen[status] += 1
                if 200 <= status < 300 or 400 <= status < 500:
                    break
                if time.monotonic() > deadline:
                    with lock:
                        failures.append(item.event)
                    break
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"{len(failures)} deliveries were never accepted"
    return seen


def figures() -> dict[str, Figures]:
    """What the CRM says per customer: profile figures and the net points of the ledger."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT p.email, p.orders_count, p.spent_gross_minor, p.refunded_minor,
              COALESCE((SELECT sum(e.points) FROM crm_points_entry e WHERE e.profile_id = p.id), 0)
            FROM crm_profile p
            """
        )
        rows = {row[0]: Figures(*map(int, row[1:])) for row in cur.fetchall()}
    # A customer whose only order was cancelled has a profile and nothing else (any points it
    # earned before the cancellation arrived were voided): nothing for the oracle to count.
    return {email: f for email, f in rows.items() if f != Figures(0, 0, 0, 0)}


def inbox_states() -> Counter[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT state, count(*) FROM crm_inbox_delivery GROUP BY state")
        return Counter(dict(cur.fetchall()))


def wait_until_drained(expected: int, timeout: float) -> float:
    """Seconds until ``expected`` distinct deliveries are stored and none is pending."""
    started = time.monotonic()
    while True:
        states = inbox_states()
        if sum(states.values()) == expected and states["pending"] == 0:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not drained after {timeout:.0f}s: {dict(states)}")
        time.sleep(0.5)

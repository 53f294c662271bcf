"""Webhook ingestion through the real server against bare INSERTs and upserts, in the same run.

Usage (PostgreSQL from ``DATABASE_URL``; the database is dropped and recreated)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
      .venv/bin/python bench/ingestion.py --customers 1500 --seconds 10

The demo generator's deliveries (customers, orders, checkouts, in arrival order) are signed as
Saleor signs them (JWS RS256, detached) and posted to ``saleor-crm serve`` (two uvicorn workers).

0. **One sender, one request at a time** (200 deliveries): the cost of one webhook, no queueing.
1. **Accept latency at a steady rate**: ``--rate`` deliveries/s (200 by default) for
   ``--seconds``, open loop (each request leaves at its scheduled time, 32 senders), p50/p99.
2. **Maximum accepted rate**: the next deliveries as fast as 16 senders get answers. **Floor**:
   the same number of bodies as single-row INSERTs into a plain table from 16 connections.
3. **Processing rate**: the stored deliveries applied by one, then (on a second set) two appliers
   (``saleor-crm drain --follow`` processes, the code the Celery task runs). **Floor**: one
   upsert per delivery into a plain keyed table, in batches of the inbox batch size.

The processing step alone, on one stored inbox copied for each variant (batch sizes, one or two
real Celery workers on Redis, statement timings), is ``bench/drain.py``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass
class Store:
    """A registered demo tenant, its signed deliveries and the running server."""

    signer: Any
    api_url: str
    base: str
    deliveries: list[Any]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def post(self, session: Any, delivery: Any) -> tuple[int, float]:
        headers = self.signer.headers(delivery.event, delivery.body, self.api_url)
        start = time.perf_counter()
        status = session.post(
            f"{self.base}/api/webhooks", data=delivery.body, headers=headers, timeout=30
        ).status_code
        return status, time.perf_counter() - start

    def replay_all(self) -> None:
        from saleor_crm_plugin.demo.replay import replay

        started = time.monotonic()
        result = replay(
            self.deliveries, f"{self.base}/api/webhooks", self.signer, self.api_url, progress=False
        )
        wait_applied()
        print(
            f"replayed {result.accepted:,} deliveries ({result.rejected} rejected, "
            f"{result.failed} failed) and applied them in {time.monotonic() - started:.0f} s"
        )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)


def pending() -> int:
    from saleor_crm_plugin.inbox.models import Delivery, DeliveryState

    return Delivery.objects.filter(state=DeliveryState.PENDING).count()


def wait_applied() -> None:
    while pending():
        time.sleep(0.2)


def spawn(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CRM_INBOX_DISPATCH": "external"}
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.Popen([sys.executable, "-m", "saleor_crm_plugin.cli", *args], env=env)


def prepare_store(customers: int, *, port: int, applier: bool) -> Store:
    """A fresh database with the demo tenant registered, its deliveries generated, the server up."""
    import requests

    from bench.backfill import setup_database

    setup_database()
    from saleor_crm_plugin.demo.run import DEMO_API_URL, END, START
    from saleor_crm_plugin.demo.signing import DemoSigner
    from saleor_crm_plugin.demo.store import generate_store, rates_csv
    from saleor_crm_plugin.money.services import load_rates
    from saleor_crm_plugin.tenants.services import register_tenant

    load_rates(io.StringIO(rates_csv(START, END)), source_name="demo")
    signer = DemoSigner()
    register_tenant(
        api_url=DEMO_API_URL,
        app_token="bench-app-token",
        domain="demo-saleor.localhost",
        base_currency="EUR",
        jwks=signer.jwks(),
    )
    deliveries = generate_store(customers=customers, start=START, end=END)
    base = f"http://127.0.0.1:{port}"
    store = Store(signer, DEMO_API_URL, base, deliveries)
    store.processes.append(
        spawn(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"])
    )
    if applier:
        store.processes.append(spawn(["drain", "--follow", "--interval", "0.2", "--quiet"]))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/manifest", timeout=2).ok:
                return store
        except requests.RequestException:
            time.sleep(0.3)
    store.stop()
    raise RuntimeError("the server did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def paced(store: Store, batch: list[Any], rate: float) -> tuple[list[float], int, float]:
    """Open loop: request i leaves at start + i/rate; latency counts from that moment."""
    import requests

    local = threading.local()
    start = time.perf_counter() + 0.2

    def one(i: int) -> tuple[int, float]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        status, _ = store.post(local.session, batch[i])
        return status, time.perf_counter() - due

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, range(len(batch))))
    took = time.perf_counter() - start
    bad = sum(1 for status, _ in results if status >= 300)
    return [latency for _, latency in results], bad, len(batch) / took


def flat_out(store: Store, batch: list[Any], senders: int = 16) -> tuple[float, int]:
    import requests

    local = threading.local()

    def one(delivery: Any) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return store.post(local.session, delivery)[0]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        statuses = list(pool.map(one, batch))
    return len(batch) / (time.perf_counter() - start), sum(1 for s in statuses if s >= 300)


def bare_inserts(bodies: list[bytes], senders: int = 16) -> float:
    """The floor of accepting: one autocommitted INSERT per body, 16 connections."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_accept")
        conn.execute(
            "CREATE TABLE bench_accept (id bigserial PRIMARY KEY, event text, "
            "body jsonb, received_at timestamptz DEFAULT now())"
        )
    chunks = [bodies[i::senders] for i in range(senders)]

    def run(chunk: list[bytes]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for body in chunk:
                conn.execute(
                    "INSERT INTO bench_accept (event, body) VALUES (%s, %s)",
                    ("order_updated", body.decode()),
                )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        list(pool.map(run, chunks))
    return len(bodies) / (time.perf_counter() - start)


def bare_upserts(bodies: list[bytes], batch: int) -> float:
    """The floor of processing: one upsert per body into a keyed table, ``batch`` per commit."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_upsert")
        conn.execute("CREATE TABLE bench_upsert (key text PRIMARY KEY, body jsonb, n int)")
        conn.commit()
        start = time.perf_counter()
        for offset in range(0, len(bodies), batch):
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bench_upsert (key, body, n) VALUES (md5(%s), %s, 1) "
                    "ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body, "
                    "n = bench_upsert.n + 1",
                    [
                        (body.decode()[:200], body.decode())
                        for body in bodies[offset : offset + batch]
                    ],
                )
            conn.commit()
        return len(bodies) / (time.perf_counter() - start)


def drain_with(appliers: int) -> tuple[float, int]:
    count = pending()
    start = time.perf_counter()
    processes = [
        spawn(["drain", "--follow", "--interval", "0.1", "--quiet"]) for _ in range(appliers)
    ]
    try:
        wait_applied()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    return count / (time.perf_counter() - start), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1500, help="demo store size")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=8792)
    args = parser.parse_args()

    store = prepare_store(args.customers, port=args.port, applier=False)
    try:
        from saleor_crm_plugin.conf import crm_settings

        all_ = store.deliveries
        steady = int(args.rate * args.seconds)
        print(f"{len(all_):,} deliveries generated for {args.customers:,} customers")
        if len(all_) < steady * 2:
            raise SystemExit("too few deliveries: raise --customers or lower --seconds")
        alone = all_[steady : steady + 200]
        rest = all_[steady + 200 :]
        import requests

        session = requests.Session()
        single = [store.post(session, delivery)[1] for delivery in alone]
        print(
            f"one sender, one at a time: p50 {statistics.median(single) * 1000:.1f} ms, "
            f"p99 {percentile(single, 0.99) * 1000:.1f} ms ({len(single) / sum(single):.0f}/s)"
        )
        half = len(rest) // 2
        first, second = rest[:half], rest[half:]

        latencies, bad, achieved = paced(store, all_[:steady], args.rate)
        print(
            f"steady {args.rate:.0f}/s for {args.seconds:.0f} s: achieved {achieved:.0f}/s, "
            f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, {bad} not 2xx"
        )
        one, _ = drain_with(1)  # the steady set, so the flat-out sets start from an empty inbox

        accepted, bad = flat_out(store, first)
        floor_insert = bare_inserts([d.body for d in first])
        print(
            f"flat out: {len(first):,} accepted at {accepted:.0f}/s ({bad} not 2xx); "
            f"bare INSERTs {floor_insert:.0f}/s; ratio {accepted / floor_insert:.2f}"
        )
        one, count_one = drain_with(1)
        floor_upsert = bare_upserts([d.body for d in first], crm_settings.INBOX_BATCH_SIZE)
        print(
            f"processing, 1 applier: {count_one:,} at {one:.0f}/s; bare upserts "
            f"{floor_upsert:.0f}/s; ratio {one / floor_upsert:.2f}"
        )
        accepted2, bad2 = flat_out(store, second)
        two, count_two = drain_with(2)
        print(
            f"processing, 2 appliers: {count_two:,} at {two:.0f}/s "
            f"(accepted at {accepted2:.0f}/s, {bad2} not 2xx); ratio {two / floor_upsert:.2f}"
        )
    finally:
        store.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    raise SystemExit(main())

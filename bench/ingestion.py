"""Webhook ingestion through the real server against bare INSERTs and upserts, in the same run.

Usage (PostgreSQL from ``DATABASE_URL``; the database is dropped and recreated)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
      .venv/bin/python bench/ingestion.py --customers 1500 --seconds 10

The demo generator's deliveries (customers, orders, checkouts, in arrival order) are signed as
Saleor signs them (JWS RS256, detached) and posted to ``saleor-crm serve`` (one uvicorn worker,
its default, or ``--server-workers``;
``--door django`` for the Django view instead of the async door) by ``bench/httpload.py``: asyncio
keep-alive connections sending requests built and signed before the clock starts.

The client's own ceiling comes first: the same requests against a trivial ASGI app (reads the
body, answers 200) under the same uvicorn, same workers and parser, flat out and at the steady rate.

0. **One sender, one request at a time** (200 deliveries): the cost of one webhook, no queueing.
1. **Accept latency at a steady rate**: ``--rate`` deliveries/s (200 by default) for
   ``--seconds``, open loop (each request leaves at its scheduled time, 32 senders), p50/p99.
2. **Maximum accepted rate**: the next deliveries as fast as 16 senders get answers. **Floor**:
   the same number of bodies as single-row INSERTs into a plain table from 16 connections
   (median of three runs).
3. **Processing rate**: the stored deliveries applied by one, then (on a second set) two appliers
   (``saleor-crm drain --follow`` processes, the code the Celery task runs, each with
   ``CRM_INBOX_APPLIER_THREADS`` threads). **Floor**: one upsert per delivery into a plain
   keyed table, in batches of the inbox batch size (median of three runs).

The processing step alone, on one stored inbox copied for each variant (batch sizes, one or two
real Celery workers on Redis, statement timings), is ``bench/drain.py``.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import subprocess
import sys
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

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def raw(self, deliveries: list[Any]) -> list[bytes]:
        """Each delivery as a ready HTTP request, signed now rather than while timed."""
        from bench.httpload import build_request

        host = self.base.split("//", 1)[1]
        return [
            build_request(
                "/api/webhooks", host, d.body, self.signer.headers(d.event, d.body, self.api_url)
            )
            for d in deliveries
        ]

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
        time.sleep(0.05)


def spawn(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CRM_INBOX_DISPATCH": "external"}
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.Popen([sys.executable, "-m", "saleor_crm_plugin.cli", *args], env=env)


def prepare_store(
    customers: int, *, port: int, applier: bool, door: str = "async", workers: int = 2
) -> Store:
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
        spawn(
            [
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--door",
                door,
            ]
        )
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


def trivial_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    """``bench.httpload.trivial_app`` under uvicorn as ``serve`` runs (its workers, its parser)."""
    code = (
        "import uvicorn; from saleor_crm_plugin.project.serving import http_protocol; "
        f"uvicorn.run('bench.httpload:trivial_app', host='127.0.0.1', port={port}, "
        f"workers={workers}, "
        "http=http_protocol(), log_level='warning', lifespan='off')"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(1.0)  # both workers up
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the trivial server did not start")


def bare_inserts(bodies: list[bytes], senders: int = 16) -> tuple[float, dict[str, float]]:
    """The floor of accepting: one autocommitted INSERT per body, 16 connections. Returns the
    rate and the CPU milliseconds per insert of the database backends and of this client."""
    import psycopg

    from bench.cpu import cpu_seconds

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_accept")
        conn.execute(
            "CREATE TABLE bench_accept (id bigserial PRIMARY KEY, event text, "
            "body jsonb, received_at timestamptz DEFAULT now())"
        )
    conns = [psycopg.connect(url, autocommit=True) for _ in range(senders)]
    backends = {conn.info.backend_pid for conn in conns}
    chunks = [bodies[i::senders] for i in range(senders)]

    def run(work: tuple[psycopg.Connection[Any], list[bytes]]) -> None:
        conn, chunk = work
        for body in chunk:
            conn.execute(
                "INSERT INTO bench_accept (event, body) VALUES (%s, %s)",
                ("order_updated", body.decode()),
            )

    database, client = cpu_seconds(backends), time.process_time()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        list(pool.map(run, zip(conns, chunks, strict=True)))
    took = time.perf_counter() - start
    cost = {
        "database": (cpu_seconds(backends) - database) * 1000 / len(bodies),
        "client": (time.process_time() - client) * 1000 / len(bodies),
    }
    for conn in conns:
        conn.close()
    return len(bodies) / took, cost


def bare_inserts_paced(bodies: list[bytes], rate: float, connections: int = 32) -> list[float]:
    """The floor of accept latency: the same bodies as single-row autocommitted INSERTs at the
    same steady rate, open loop (latency from each INSERT's due time), on ``connections``."""
    import asyncio

    import psycopg

    from bench.httpload import open_loop

    url = os.environ["DATABASE_URL"]

    async def run() -> list[float]:
        conns: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
        for _ in range(connections):
            conns.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=True))
        latencies = [0.0] * len(bodies)
        start = time.perf_counter() + 0.1

        async def one(i: int) -> None:
            due = start + i / rate
            conn = await conns.get()
            try:
                await conn.execute(
                    "INSERT INTO bench_accept (event, body) VALUES (%s, %s)",
                    ("order_updated", bodies[i].decode()),
                )
            finally:
                conns.put_nowait(conn)
            latencies[i] = time.perf_counter() - due

        await open_loop(len(bodies), rate, start, one)
        while not conns.empty():
            await conns.get_nowait().close()
        return latencies

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_accept")
        conn.execute(
            "CREATE TABLE bench_accept (id bigserial PRIMARY KEY, event text, "
            "body jsonb, received_at timestamptz DEFAULT now())"
        )
    return asyncio.run(run())


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


def flat_out_costed(
    store: Store, requests: list[bytes]
) -> tuple[float, list[int], dict[str, float]]:
    """``httpload.flat_out`` against the server, with the CPU milliseconds per delivery of its
    workers, of the database backends and of this client, and the deliveries per commit."""
    import psycopg

    from bench import httpload
    from bench.cpu import backends, cpu_seconds, process_tree

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM crm_inbox_delivery").fetchone()
    server = process_tree(store.processes[0].pid)
    database = backends(url.rsplit("/", 1)[1])
    before = cpu_seconds(server), cpu_seconds(database), time.process_time()
    rate, statuses, _ = httpload.flat_out("127.0.0.1", store.port, requests)
    after = cpu_seconds(server), cpu_seconds(database), time.process_time()
    with psycopg.connect(url) as conn:
        (commits,) = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM crm_inbox_delivery WHERE id > %s", [last]
        ).fetchone()
    n = len(requests)
    cost = {
        name: (after[i] - before[i]) * 1000 / n
        for i, name in enumerate(("server", "database", "client"))
    }
    cost["rows_per_commit"] = n / max(1, commits)
    return rate, statuses, cost


def applier_startup() -> float:
    """Seconds for ``saleor-crm drain`` to start, find nothing and exit: the Python and Django
    start-up that ``drain_with`` subtracts (the floor's clock starts with its connection open)."""
    start = time.perf_counter()
    spawn(["drain", "--quiet"]).wait(timeout=120)
    return time.perf_counter() - start


def drain_with(appliers: int, startup: float = 0.0) -> tuple[float, int]:
    """The rate at which ``appliers`` processes apply what is pending, from their start-up's
    end (``startup`` seconds after their launch) to the last row applied."""
    count = pending()
    start = time.perf_counter() + startup
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
    parser.add_argument("--server-workers", type=int, default=1, help="saleor-crm serve --workers")
    parser.add_argument(
        "--door", choices=["async", "django"], default="async", help="what answers webhooks"
    )
    args = parser.parse_args()

    store = prepare_store(
        args.customers, port=args.port, applier=False, door=args.door, workers=args.server_workers
    )
    try:
        from saleor_crm_plugin.conf import crm_settings

        all_ = store.deliveries
        steady = int(args.rate * args.seconds)
        print(f"{len(all_):,} deliveries generated for {args.customers:,} customers")
        if len(all_) < steady * 2:
            raise SystemExit("too few deliveries: raise --customers or lower --seconds")
        from bench import httpload

        started = time.perf_counter()
        requests = store.raw(all_)
        print(f"signed {len(requests):,} requests in {time.perf_counter() - started:.1f} s")
        # The generated store is millions of objects: a full collection in this process (the
        # client) stalled it for hundreds of milliseconds in the middle of a timed run.
        gc.collect()
        gc.freeze()
        steady_reqs = requests[:steady]
        alone = requests[steady : steady + 200]
        rest = requests[steady + 200 :]
        half = len(rest) // 2
        first, second = rest[:half], rest[half:]
        first_bodies = [d.body for d in all_[steady + 200 :][:half]]

        trivial = trivial_server(args.port + 1, args.server_workers)
        try:
            ceiling, _, _ = httpload.flat_out("127.0.0.1", args.port + 1, first)
            t_lat, _, t_rate = httpload.paced("127.0.0.1", args.port + 1, steady_reqs, args.rate)
        finally:
            trivial.terminate()
            trivial.wait(timeout=30)
        print(
            f"client ceiling (trivial endpoint, same server): flat out {ceiling:.0f}/s; "
            f"steady {args.rate:.0f}/s: achieved {t_rate:.0f}/s, "
            f"p50 {statistics.median(t_lat) * 1000:.1f} ms, "
            f"p99 {percentile(t_lat, 0.99) * 1000:.1f} ms"
        )

        _, _, single = httpload.flat_out("127.0.0.1", store.port, alone, connections=1)
        print(
            f"one sender, one at a time: p50 {statistics.median(single) * 1000:.1f} ms, "
            f"p99 {percentile(single, 0.99) * 1000:.1f} ms ({len(single) / sum(single):.0f}/s)"
        )

        latencies, statuses, achieved = httpload.paced(
            "127.0.0.1", store.port, steady_reqs, args.rate
        )
        bad = sum(1 for status in statuses if status >= 300)
        print(
            f"steady {args.rate:.0f}/s for {args.seconds:.0f} s: achieved {achieved:.0f}/s, "
            f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, {bad} not 2xx"
        )
        per_second = [
            percentile(latencies[i : i + int(args.rate)], 0.99) * 1000
            for i in range(0, len(latencies), int(args.rate))
        ]
        print("  p99 of each second: " + ", ".join(f"{ms:.0f}" for ms in per_second) + " ms")
        floor_lat = bare_inserts_paced([d.body for d in all_[:steady]], args.rate)
        floor_seconds = [
            percentile(floor_lat[i : i + int(args.rate)], 0.99) * 1000
            for i in range(0, len(floor_lat), int(args.rate))
        ]
        print(
            f"  floor, bare INSERTs at {args.rate:.0f}/s: p50 "
            f"{statistics.median(floor_lat) * 1000:.1f} ms, "
            f"p99 {percentile(floor_lat, 0.99) * 1000:.1f} ms; p99 of each second: "
            + ", ".join(f"{ms:.0f}" for ms in floor_seconds)
            + " ms"
        )
        startup = applier_startup()
        print(f"an applier's start-up (not counted below): {startup:.2f} s")
        one, _ = drain_with(1)  # the steady set, so the flat-out sets start from an empty inbox

        accepted, statuses, door = flat_out_costed(store, first)
        bad = sum(1 for status in statuses if status >= 300)
        # Floors: the median of three runs (one run moves by 20-30% with checkpoints).
        inserts = sorted((bare_inserts(first_bodies) for _ in range(3)), key=lambda r: r[0])
        floor_insert, floor = inserts[1]
        print(
            f"flat out: {len(first):,} accepted at {accepted:.0f}/s ({bad} not 2xx); "
            f"bare INSERTs {floor_insert:.0f}/s (median of "
            f"{', '.join(f'{r[0]:.0f}' for r in inserts)}); "
            f"ratio {accepted / floor_insert:.2f}"
        )
        print(
            f"  CPU ms per delivery: server {door['server']:.3f}, database "
            f"{door['database']:.3f}, client {door['client']:.3f} "
            f"({door['rows_per_commit']:.1f} deliveries per commit); per bare INSERT: "
            f"database {floor['database']:.3f}, client {floor['client']:.3f}"
        )
        one, count_one = drain_with(1, startup)
        floor_upsert = statistics.median(
            bare_upserts(first_bodies, crm_settings.INBOX_BATCH_SIZE) for _ in range(3)
        )
        threads = crm_settings.INBOX_APPLIER_THREADS
        print(
            f"processing, 1 applier ({threads} thread(s)): {count_one:,} at {one:.0f}/s; "
            f"bare upserts {floor_upsert:.0f}/s; ratio {one / floor_upsert:.2f}"
        )
        accepted2, statuses2, _ = httpload.flat_out("127.0.0.1", store.port, second)
        bad2 = sum(1 for status in statuses2 if status >= 300)
        two, count_two = drain_with(2, startup)
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

"""Applying a stored inbox: in-process drain, and Celery workers on Redis, against bare upserts.

Usage (PostgreSQL from ``DATABASE_URL``; that database and ``<name>_run`` are dropped)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
      nice .venv/bin/python bench/drain.py --customers 300 --batch-sizes 500,1000 \\
      --celery redis://127.0.0.1:6379/10 --workers 1,2

The demo generator's deliveries are stored once (``accept_many``, nothing applied), and every
measurement starts from a copy of that database (``CREATE DATABASE ... TEMPLATE``), so each
variant applies exactly the same pending inbox:

- **drain, batch N, T thread(s)**: ``inbox.services.drain`` in a fresh process, the code the
  Celery task runs, with ``CRM_INBOX_APPLIER_THREADS=T`` (``--threads 1,2``; 2 by default);
  ``--statements`` adds the time spent per SQL statement (grouped by the caller's function).
- **Celery, W workers**: W ``celery worker --concurrency 1`` processes on the broker given,
  started before the clock; the clock runs from publishing one ``drain_inbox`` task per worker
  for the tenant (what the door's publisher sends) until no delivery is pending.
- a customer deletion's search of the stored bodies naming them runs after the batch's
  commit, as a task of its own (``profiles/traces.py``): timed apart, after the drain;
- **floor**: one upsert per body into a plain keyed table, committed per 500, the same floor as
  ``bench/ingestion.py``; measured three times before and three times after the variants, and
  the ratio uses the median of the six.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _urls() -> tuple[str, str, str]:
    url = os.environ["DATABASE_URL"]
    server, name = url.rsplit("/", 1)
    return server, name, f"{server}/{name}_run"


def build(customers: int) -> list[bytes]:
    """The base database: the demo tenant and every delivery stored, none applied."""
    import io

    from bench.backfill import setup_database

    setup_database()
    from saleor_crm_plugin.demo.run import DEMO_API_URL, END, START
    from saleor_crm_plugin.demo.signing import DemoSigner
    from saleor_crm_plugin.demo.store import generate_store, rates_csv
    from saleor_crm_plugin.inbox.services import accept_many
    from saleor_crm_plugin.money.services import load_rates
    from saleor_crm_plugin.tenants.services import register_tenant

    load_rates(io.StringIO(rates_csv(START, END)), source_name="demo")
    tenant = register_tenant(
        api_url=DEMO_API_URL,
        app_token="bench-app-token",
        domain="demo-saleor.localhost",
        base_currency="EUR",
        jwks=DemoSigner().jwks(),
    )
    deliveries = generate_store(customers=customers, start=START, end=END)
    items = [(d.event, d.body) for d in deliveries]
    for offset in range(0, len(items), 1000):
        accept_many(tenant, items[offset : offset + 1000], source="webhook")
    from django.db import connections

    connections.close_all()
    return [d.body for d in deliveries]


def clone() -> str:
    import psycopg

    server, name, run_url = _urls()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_run" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}_run" TEMPLATE "{name}"')
    return run_url


def child(batch: int, statements: bool, warm: float) -> None:
    """Runs in a fresh process on the copy: drain everything, print JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    os.environ["CRM_INBOX_DISPATCH"] = "external"
    django.setup()
    import traceback
    from collections import defaultdict

    from django.conf import settings
    from django.db import connection

    from saleor_crm_plugin.inbox.services import drain

    settings.CRM_INBOX_BATCH_SIZE = batch
    if warm:  # a store with history and planner statistics, as autovacuum would keep them
        from saleor_crm_plugin.inbox.models import Delivery

        drain(limit=int(Delivery.objects.count() * warm))
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        where = "?"
        for frame in reversed(traceback.extract_stack(limit=12)[:-1]):
            if "saleor_crm_plugin" in frame.filename and "/db/" not in frame.filename:
                path = Path(frame.filename)
                where = f"{path.parent.name}/{path.name}:{frame.name}"
                break
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            cell = spent[where]
            cell[0] += time.perf_counter() - start
            cell[1] += 1

    import resource

    if os.environ.get("BENCH_EXPLAIN_MS"):  # plans of slow statements, on stderr
        connection.ensure_connection()
        raw = connection.connection
        raw.add_notice_handler(lambda d: print(d.message_primary, file=sys.stderr))
        with connection.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            cur.execute(
                "SELECT set_config('auto_explain.log_min_duration', %s, false),"
                " set_config('auto_explain.log_analyze', 'on', false),"
                " set_config('auto_explain.log_nested_statements', 'on', false),"
                " set_config('auto_explain.log_level', 'notice', false)",
                [os.environ["BENCH_EXPLAIN_MS"]],
            )
    if os.environ.get("BENCH_ASYNC_COMMIT"):  # what durability of the applier's commits costs
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
    profiler = None
    if os.environ.get("BENCH_CPROFILE"):  # the Python side, written to that file
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    # CPU seconds of this process and of its PostgreSQL backend: far steadier than the wall
    # clock when other work shares the cores (the wall clock includes waiting for a core).
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    own_cpu, backend_cpu = _cpu_seconds(os.getpid()), _backends_cpu(backend)
    start = time.perf_counter()
    if statements:
        with connection.execute_wrapper(timed):
            result = drain()
    else:
        result = drain()
    took = time.perf_counter() - start
    own_cpu = _cpu_seconds(os.getpid()) - own_cpu
    backend_cpu = _backends_cpu(backend) - backend_cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.environ["BENCH_CPROFILE"])
    # Deletions queue the search of the stored bodies naming them, for a task of its own after
    # commit (profiles/traces.py); timed apart, it is not the applier's work any more.
    scrubs, scrub_seconds = 0, 0.0
    try:
        from saleor_crm_plugin.profiles.traces import scrub_pending
    except ImportError:  # code from before the scrub left the batch
        pass
    else:
        scrub_start = time.perf_counter()
        scrubs = scrub_pending()
        scrub_seconds = time.perf_counter() - scrub_start
    top = sorted(spent.items(), key=lambda kv: -kv[1][0])[:30]
    print(
        json.dumps(
            {
                "claimed": result.claimed,
                "failed": result.failed,
                "seconds": took,
                "python_cpu": own_cpu,
                "backend_cpu": backend_cpu,
                "scrubs": scrubs,
                "scrub_seconds": scrub_seconds,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "statements": [(k, round(v[0], 3), v[1]) for k, v in top],
            }
        )
    )


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """User and system CPU time of a process on this machine (Linux ``/proc``); with
    ``children``, that of its children that have ended instead."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _backends_cpu(backend: int) -> float:
    """CPU of the drain's PostgreSQL backends: the main connection's (alive), plus what ended
    backends left with the postmaster (the applier threads' connections close when the
    drain ends; so does any other connection ending meanwhile, nothing on a quiet machine)."""
    return _cpu_seconds(backend) + _cpu_seconds(_parent(backend), children=True)


def run_drain(batch: int, statements: bool, warm: float, threads: int = 2) -> dict:
    run_url = clone()
    env = {
        **os.environ,
        "DATABASE_URL": run_url,
        "CRM_INBOX_DISPATCH": "external",
        "CRM_INBOX_APPLIER_THREADS": str(threads),
    }
    env.pop("CELERY_BROKER_URL", None)
    args = [sys.executable, __file__, "--child", "--batch", str(batch), "--warm", str(warm)]
    if statements:
        args.append("--statements")
    proc = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    if os.environ.get("BENCH_EXPLAIN_MS"):
        Path("/tmp/drain_explain.log").write_text(proc.stderr)
    out = proc.stdout
    return json.loads(out.strip().splitlines()[-1])


def _pending(run_url: str) -> int:
    import psycopg

    with psycopg.connect(run_url) as conn:
        row = conn.execute("SELECT count(*) FROM crm_inbox_delivery WHERE state = 'pending'")
        return int(row.fetchone()[0])  # type: ignore[index]


def run_celery(workers: int, broker: str) -> tuple[float, int]:
    """W Celery workers (one process each) apply the copy's pending inbox."""
    import psycopg
    from celery import Celery

    run_url = clone()
    app = Celery(broker=broker)
    app.control.purge()  # drain tasks an earlier, interrupted run left in the default queue
    count = _pending(run_url)
    with psycopg.connect(run_url) as conn:
        tenant_id = conn.execute("SELECT id FROM crm_tenant").fetchone()[0]  # type: ignore[index]
    env = {
        **os.environ,
        "DATABASE_URL": run_url,
        "CELERY_BROKER_URL": broker,
        "CRM_INBOX_DISPATCH": "celery",
        "DJANGO_SETTINGS_MODULE": "saleor_crm_plugin.project.settings",
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "saleor_crm_plugin.project.celery",
                "worker",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--loglevel",
                "WARNING",
                "-n",
                f"bench{i}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
        )
        for i in range(workers)
    ]
    try:
        _wait_workers(env, workers)
        start = time.perf_counter()
        for _ in range(workers):
            app.send_task("saleor_crm.inbox.drain", kwargs={"tenant_id": tenant_id})
        while _pending(run_url):
            time.sleep(0.1)
        took = time.perf_counter() - start
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    return count / took, count


def _wait_workers(env: dict[str, str], workers: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "saleor_crm_plugin.project.celery",
                "inspect",
                "ping",
                "--timeout",
                "2",
            ],
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        if out.count("pong") >= workers:
            return
        time.sleep(1)
    raise RuntimeError("the Celery workers did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--batch-sizes", default="500")
    parser.add_argument("--statements", action="store_true", help="time each SQL call site")
    parser.add_argument("--celery", default="", help="broker URL (Redis db of your own)")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument(
        "--warm",
        type=float,
        default=0.0,
        help="apply this share first, ANALYZE, then time the rest (a store with history)",
    )
    parser.add_argument(
        "--threads", default="2", help="applier threads of the drain (CRM_INBOX_APPLIER_THREADS)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the stored base database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=500, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.batch, args.statements, args.warm)
        return 0

    from bench.ingestion import bare_upserts

    if args.reuse:  # the base database of an earlier run, unchanged
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            rows = conn.execute("SELECT body FROM crm_inbox_delivery ORDER BY id").fetchall()
        bodies = [bytes(row[0]) for row in rows]
    else:
        bodies = build(args.customers)
    print(f"{len(bodies):,} deliveries stored for {args.customers:,} customers")
    # Three floors before and three after the variants; the ratio uses their median (one
    # bare run of a second moves by 20-30% with checkpoints and the other core's work).
    floors = [bare_upserts(bodies, 500) for _ in range(3)]
    print(f"floor: bare upserts {', '.join(f'{f:,.0f}' for f in floors)}/s")
    rates: list[tuple[str, float]] = []
    variants = [
        (int(size), int(threads))
        for size in args.batch_sizes.split(",")
        for threads in args.threads.split(",")
    ]
    for size, threads in variants:
        got = run_drain(size, args.statements, args.warm, threads)
        rate = got["claimed"] / got["seconds"]
        name = f"drain, batch {size}, {threads} thread(s)"
        rates.append((name, rate))
        print(
            f"{name}: {got['claimed']:,} in {got['seconds']:.2f} s = {rate:,.0f}/s "
            f"({got['failed']} failed, max RSS {got['max_rss_mb']:.0f} MB)"
        )
        print(
            f"    CPU: applier {got['python_cpu']:.2f} s, its PostgreSQL backends "
            f"{got['backend_cpu']:.2f} s"
        )
        if got.get("scrubs"):
            print(f"    then {got['scrubs']} deferred scrub(s) in {got['scrub_seconds']:.2f} s")
        for where, seconds, calls in got["statements"]:
            print(f"    {seconds:8.3f} s {calls:6d} x  {where}")
    if args.celery:
        for workers in [int(w) for w in args.workers.split(",")]:
            rate, count = run_celery(workers, args.celery)
            rates.append((f"Celery, {workers} worker(s)", rate))
            print(f"Celery, {workers} worker(s): {count:,} at {rate:,.0f}/s")
    after = [bare_upserts(bodies, 500) for _ in range(3)]
    floors += after
    floor = statistics.median(floors)
    print(f"floor: bare upserts {', '.join(f'{f:,.0f}' for f in after)}/s (median {floor:,.0f}/s)")
    for name, rate in rates:
        print(f"{name}: {rate:,.0f}/s, ratio {rate / floor:.3f}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    raise SystemExit(main())

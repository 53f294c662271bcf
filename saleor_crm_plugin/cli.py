"""``saleor-crm``: one command for running the CRM as a Saleor app.

Each sub-command is a thin wrapper: it prepares Django (which starts the embedded PostgreSQL
when ``DATABASE_URL`` is unset) and calls the service or management command that does the work.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from .backfill.services import BackfillSummary
    from .tenants.models import Tenant


# Connections per `serve` worker: a webhook holds one for a few milliseconds, so a handful
# serves two cores; requests past that wait up to DATABASE_POOL_TIMEOUT for one, then get a 503.
SERVE_POOL_MAX_SIZE = 8


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    import django

    django.setup()


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    # Each worker takes its connections from a bounded pool (settings.py says why); the
    # workers are spawned after this, so they inherit the variable.
    os.environ.setdefault("DATABASE_POOL_MAX_SIZE", str(SERVE_POOL_MAX_SIZE))
    _setup()
    import uvicorn
    from django.core.management import call_command
    from django.db import connection

    from .project.serving import http_protocol

    call_command("migrate", interactive=False, verbosity=0)
    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()  # this process only supervises the workers from here on
    print(f"Saleor CRM listening on http://{args.host}:{args.port}/  (manifest: /api/manifest)")
    # The async door answers Saleor's webhooks (webhooks/door.py); --door django leaves them to
    # the Django view, as in plugin mode (for comparing the two).
    app = "serve_application" if args.door == "async" else "application"
    uvicorn.run(
        f"saleor_crm_plugin.project.asgi:{app}",
        host=args.host,
        port=args.port,
        log_level="warning",
        # Not logged at this level anyway, but uvicorn builds each request's log arguments
        # before asking the logger.
        access_log=False,
        workers=args.workers,
        http=http_protocol(),
        lifespan="on" if args.door == "async" else "off",
        # The async door's app puts the proxy headers middleware around Django itself (asgi.py).
        proxy_headers=args.door != "async",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from .project.celery import app
    from .scaleout.beat import BeatLock

    argv = ["worker", "--loglevel", args.loglevel, "--concurrency", str(args.concurrency)]
    if args.queues:
        argv += ["--queues", args.queues]
    if args.beat:
        # Every machine may ask for --beat: the first to hold the lock runs the schedule,
        # the others run as plain workers (docs/scaleout.md).
        lock = BeatLock()
        if lock.try_acquire():
            print("beat: holding the beat lock; running the periodic schedule", flush=True)
            lock.watch(args.lock_check)
            argv.append("--beat")
        else:
            lock.close()
            print("beat: another process holds the beat lock; running without beat", flush=True)
    app.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    _setup()
    from celery.apps.beat import Beat

    from .project.celery import app
    from .scaleout.beat import BeatLock

    lock = BeatLock()
    lock.wait(
        args.standby_interval,
        lambda: print("beat: another beat holds the lock; standing by", flush=True),
    )
    print("beat: holding the beat lock; running the periodic schedule", flush=True)
    lock.watch(args.lock_check)
    Beat(app=app, loglevel=args.loglevel, schedule=args.schedule).run()
    return 0


def cmd_load_rates(args: argparse.Namespace) -> int:
    _setup()
    from .money.errors import MoneyError
    from .money.services import load_rates

    try:
        result = load_rates(Path(args.file), source_name=Path(args.file).name)
    except MoneyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"loaded {result.loaded} rates from {args.file}")
    return 0


def cmd_drain(args: argparse.Namespace) -> int:
    _setup()
    from .inbox.services import drain, reprocess
    from .profiles.traces import scrub_pending

    if args.reprocess_failed:
        print(f"re-queued {reprocess(failed_only=True)} failed deliveries")
    while True:
        result = drain()
        scrub_pending()  # bodies naming customers just deleted (queued by the batches)
        if not args.quiet and (result.claimed or not args.follow):
            print(f"processed {result.processed}, ignored {result.ignored}, failed {result.failed}")
        if not args.follow:
            return 0
        if not result.claimed:
            time.sleep(args.interval)


def cmd_partition(args: argparse.Namespace) -> int:
    _setup()
    from django.utils import timezone

    from .scaleout.partitions import (
        TIMELINE_REFUSAL,
        ensure_partitions,
        is_partitioned,
        partition_inbox,
    )

    if args.table == "timeline":
        print(f"error: {TIMELINE_REFUSAL}", file=sys.stderr)
        return 2
    now = timezone.now()
    if is_partitioned():
        created = ensure_partitions(now, args.months_ahead)
        print(f"crm_inbox_delivery is already partitioned; created {len(created)} partitions")
        return 0
    done = partition_inbox(now, args.months_ahead)
    print(
        f"crm_inbox_delivery partitioned by month: {done.rows} deliveries in "
        f"{len(done.partitions)} partitions ({done.partitions[0]} .. {done.partitions[-1]})"
    )
    return 0


def _plugin_tenant_from_saleor() -> Any:
    """Inside Saleor, with the plugin enabled but no event seen yet: its tenant, created with
    the base currency the merchant set in the dashboard."""
    from .backfill.saleor_tables import plugin_base_currency
    from .tenants.services import plugin_tenant

    currency = plugin_base_currency()
    return plugin_tenant(currency) if currency else None


def cmd_backfill(args: argparse.Namespace) -> int:
    _setup()
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from .backfill.client import BackfillError
    from .backfill.services import backfill
    from .tenants.models import Tenant
    from .tenants.services import tenant_for_api_url

    console = Console()
    if args.api_url:
        tenant = tenant_for_api_url(args.api_url)
    else:
        tenants = list(Tenant.objects.filter(is_active=True)[:2])
        tenant = tenants[0] if len(tenants) == 1 else None
        if not tenants:
            tenant = _plugin_tenant_from_saleor()
    if tenant is None:
        console.print("error: name the Saleor with --api-url (no single installed Saleor found)")
        return 2
    with Progress(console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(resource: str, fetched: int, total: int | None) -> None:
            if resource not in tasks:
                tasks[resource] = bar.add_task(f"backfilling {resource}", total=total)
            bar.update(tasks[resource], completed=fetched, total=total)

        try:
            summary = backfill(
                tenant, page_size=args.page_size, restart=args.restart, progress=progress
            )
        except BackfillError as exc:
            console.print(f"error: {exc} (run again to resume where it stopped)")
            return 1
        except KeyboardInterrupt:
            console.print("interrupted: run again to resume after the last stored page")
            return 130
    _print_backfill_summary(console, tenant, summary)
    return 0


def _print_backfill_summary(console: Console, tenant: Tenant, summary: BackfillSummary) -> None:
    from rich.table import Table

    from .profiles.models import Profile

    table = Table("resource", "fetched", "new deliveries", "in Saleor", "state")
    for resource, counts in summary.resources.items():
        state = "stopped" if not counts.done else "done" if counts.fetched else "done earlier"
        total = "-" if counts.total is None else str(counts.total)
        table.add_row(resource, str(counts.fetched), str(counts.new), total, state)
    console.print(table)
    if all(c.done and not c.fetched for c in summary.resources.values()):
        console.print("nothing left to import; --restart pages through everything again")
    applied = summary.applied
    profiles = Profile.objects.filter(tenant=tenant).count()
    console.print(
        f"applied {applied.processed} deliveries ({applied.ignored} ignored, {applied.failed} "
        f"failed); {profiles} customer profiles"
    )
    if summary.failures:
        failed = Table("failed deliveries", "code", "for example")
        for reason in summary.failures:
            failed.add_row(str(reason.count), reason.code, reason.example)
        console.print(failed)
        console.print("after fixing (e.g. loading FX rates): saleor-crm drain --reprocess-failed")


def cmd_recompute(args: argparse.Namespace) -> int:
    _setup()
    from django.utils import timezone
    from rich.console import Console
    from rich.progress import Progress

    from .segments.services import recompute_store
    from .tenants.models import Tenant
    from .tenants.services import tenant_for_api_url

    console = Console()
    if args.api_url:
        found = tenant_for_api_url(args.api_url)
        if found is None:
            console.print(f"error: no installed Saleor at {args.api_url}")
            return 2
        tenants = [found]
    else:
        tenants = list(Tenant.objects.filter(is_active=True).order_by("pk"))
    now = timezone.now()
    with Progress(console=console) as bar:
        for tenant in tenants:
            name = tenant.saleor_domain or str(tenant.pk)
            task = bar.add_task(f"scoring {name}", total=None)

            def progress(
                step: str, done: int, total: int, task: Any = task, name: str = name
            ) -> None:
                bar.update(task, completed=done, total=total, description=f"{name}: {step}")

            result = recompute_store(tenant, now, progress, from_orders=args.from_orders)
            console.print(
                f"{tenant}: scores of {result.changed} customers changed; "
                f"{result.segments} segments refreshed; predictions by {result.prediction_method}"
            )
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    # Printing the schema reads no data: without a DATABASE_URL, a placeholder keeps the settings
    # from starting (and leaving behind) an embedded PostgreSQL just to print text.
    os.environ.setdefault("DATABASE_URL", "postgres://unused@127.0.0.1:9/unused")
    _setup()
    from .graphql.schema import schema

    print(str(schema).rstrip())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup()
    from .demo.run import run_demo

    return run_demo(
        host=args.host, port=args.port, customers=args.customers, serve=not args.no_serve
    )


def _page_size(text: str) -> int:
    from .backfill.queries import MAX_PAGE_SIZE  # Saleor refuses more nodes per page

    size = int(text)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PAGE_SIZE}")
    return size


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saleor-crm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="create or update the CRM tables")
    p.add_argument("-v", "--verbosity", type=int, default=1)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="run the app (manifest, register, webhooks, GraphQL)")
    p.add_argument("--host", default=os.environ.get("CRM_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CRM_PORT", "8010")))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--door",
        choices=["async", "django"],
        default=os.environ.get("CRM_WEBHOOK_DOOR", "async"),
        help="what answers Saleor's webhooks: the async door (group commit) or the Django view",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run a Celery worker (needs CELERY_BROKER_URL)")
    p.add_argument("--loglevel", default="info")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument(
        "--beat", action="store_true", help="also run the periodic schedule, unless a beat runs"
    )
    p.add_argument("--lock-check", type=float, default=15.0, help="seconds between lock checks")
    p.add_argument("--queues", default="", help="comma-separated queues (default: CELERY_QUEUE)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("beat", help="run the periodic schedule; one at a time, others stand by")
    p.add_argument("--loglevel", default="info")
    p.add_argument("--schedule", default="celerybeat-schedule", help="beat's state file")
    p.add_argument("--standby-interval", type=float, default=5.0, help="seconds between tries")
    p.add_argument("--lock-check", type=float, default=15.0, help="seconds between lock checks")
    p.set_defaults(func=cmd_beat)

    p = sub.add_parser("load-rates", help="load FX rates from a CSV (date,base,currency,rate)")
    p.add_argument("file")
    p.set_defaults(func=cmd_load_rates)

    p = sub.add_parser("drain", help="apply pending inbox deliveries now")
    p.add_argument("--reprocess-failed", action="store_true", help="retry failed deliveries too")
    p.add_argument("--follow", action="store_true", help="keep applying new deliveries")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between idle rounds")
    p.add_argument("--quiet", action="store_true", help="print nothing while following")
    p.set_defaults(func=cmd_drain)

    p = sub.add_parser("backfill", help="import customers and orders through Saleor's API")
    p.add_argument("--api-url", help="which installed Saleor (needed when several are)")
    p.add_argument("--page-size", type=_page_size, default=100, help="nodes per request (1-100)")
    p.add_argument("--restart", action="store_true", help="start from the newest again")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("recompute", help="score customers (RFM, stage, risk) and refresh segments")
    p.add_argument("--api-url", help="only this installed Saleor (default: every store)")
    p.add_argument(
        "--from-orders",
        action="store_true",
        help="read every stored order again instead of the figures the inbox keeps per customer",
    )
    p.set_defaults(func=cmd_recompute)

    p = sub.add_parser("partition", help="convert the inbox to monthly partitions (scaleout.md)")
    p.add_argument("--table", choices=["inbox", "timeline"], required=True)
    p.add_argument(
        "--months-ahead", type=int, default=3, help="months to create after the current one"
    )
    p.set_defaults(func=cmd_partition)

    p = sub.add_parser("export-schema", help="print the CRM GraphQL schema (SDL)")
    p.set_defaults(func=cmd_export_schema)

    p = sub.add_parser("demo", help="replay a generated cross-border store, then serve it")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8010)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--no-serve", action="store_true", help="stop after the replay")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())

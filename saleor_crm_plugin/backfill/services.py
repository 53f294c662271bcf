"""Backfill: page through Saleor's customers and orders and store each node in the inbox.

Each node is wrapped exactly like the webhook Saleor would send for it (``customer_updated``,
``order_updated``) with ``issuedAt`` set to the node's own ``updatedAt``, so the one parser and
the one set-based apply path serve it, and the version guards keep working: a live webhook
showing a newer state always wins, an older backfilled snapshot never overwrites it, and a
customer deleted before the backfill stays deleted. Running the backfill again produces the same
bytes, which the inbox dedupe absorbs. Each page's inbox rows and the cursor after it are
written in one transaction, so an interrupted run resumes exactly after the last stored page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from ..inbox.encoding import encode
from ..inbox.models import Delivery, DeliveryState
from ..inbox.services import DrainResult, accept_many, drain
from ..tenants.models import Tenant
from ..tenants.services import PLUGIN_TENANT_URL, app_token
from . import saleor_tables
from .client import BackfillError, SaleorGraphQL
from .models import BackfillCursor
from .queries import RESOURCES, Resource, variables

SOURCE = "backfill"
_LOCK_CLASS = 7322  # pg advisory lock (class, tenant id): one backfill per Saleor at a time

Progress = Callable[[str, int, int | None], None]  # resource, fetched so far, Saleor's total


@dataclass
class ResourceSummary:
    fetched: int = 0  # nodes received in this run
    new: int = 0  # of which the inbox did not hold yet
    total: int | None = None  # Saleor's totalCount at the last page
    done: bool = False


@dataclass(frozen=True)
class FailureReason:
    code: str
    count: int
    example: str  # one of the messages: they name the delivery's own currency, time ...


@dataclass
class BackfillSummary:
    resources: dict[str, ResourceSummary] = field(default_factory=dict)
    applied: DrainResult = field(default_factory=DrainResult)
    # Backfilled deliveries of this Saleor still failed after the run, by reason (kept, not lost).
    failures: list[FailureReason] = field(default_factory=list)
    # Applied-delivery count at which the planner's statistics are refreshed next.
    next_analyze: int = field(default=1000, repr=False)


def wrap(resource: Resource, node: dict[str, Any]) -> tuple[str, bytes]:
    """(event, body) of the webhook Saleor would have sent for this node's current state."""
    issued = node.get("updatedAt") or node.get("dateJoined") or node.get("created")
    payload = {
        "__typename": resource.typename,
        "issuedAt": issued,
        "version": SOURCE,
        "issuingPrincipal": None,
        resource.key: node,
    }
    return resource.event, encode(payload).encode()


def reset(tenant: Tenant) -> int:
    """Forget where the last backfill stopped; the next one starts from the newest again."""
    deleted, _ = BackfillCursor.objects.filter(tenant=tenant).delete()
    return deleted


def backfill(
    tenant: Tenant,
    *,
    page_size: int = 100,
    restart: bool = False,
    progress: Progress | None = None,
    client: SaleorGraphQL | None = None,
    drain_every: int = 5,
) -> BackfillSummary:
    """Import customers, orders and open checkouts; resumable, idempotent, safe beside live
    webhooks.

    Pending deliveries are applied every ``drain_every`` pages, so profiles fill in while the
    backfill runs rather than all at the end (five pages of 100 are one inbox batch, which
    BENCHMARKS.md shows is faster than applying each page). Raises ``BackfillError`` when
    Saleor refuses or keeps failing; everything stored until then stays, and the next run
    resumes after it. For the in-process plugin's tenant it reads Saleor's tables instead.
    """
    if tenant.saleor_api_url == PLUGIN_TENANT_URL:
        return _backfill_tables(tenant, restart=restart, progress=progress)
    variables(page_size, None)  # a bad page size fails before anything is asked
    own_client = client is None
    client = client or SaleorGraphQL(tenant.saleor_api_url, _token(tenant))
    summary = BackfillSummary()
    try:
        with _one_backfill_per_tenant(tenant):
            if restart:
                reset(tenant)
            try:
                for resource in RESOURCES:
                    summary.resources[resource.name] = _backfill_resource(
                        tenant, resource, client, page_size, progress, summary, max(1, drain_every)
                    )
            except BackfillError:
                _apply(tenant, summary)  # what was stored before Saleor failed counts already
                raise
            _apply(tenant, summary)
    finally:
        if own_client:
            client.close()
    summary.failures = failure_reasons(tenant)
    return summary


def _backfill_tables(
    tenant: Tenant, *, restart: bool, progress: Progress | None
) -> BackfillSummary:
    """Plugin mode: the same import, read from Saleor's tables in this very database."""
    missing = saleor_tables.missing_tables()
    if missing:
        raise BackfillError(
            f"Saleor's tables ({', '.join(missing)}) are not in this database: in plugin mode run "
            "the backfill with Saleor's settings, e.g. DJANGO_SETTINGS_MODULE=saleor.settings "
            "saleor-crm backfill"
        )
    summary = BackfillSummary()
    with _one_backfill_per_tenant(tenant):
        if restart:
            reset(tenant)
        for table in saleor_tables.TABLES:
            fetched, new, total, done = saleor_tables.store_table(
                tenant, table, progress=progress, after_chunk=lambda: _apply(tenant, summary)
            )
            name = table.name.removeprefix("tables:")
            summary.resources[name] = ResourceSummary(fetched, new, total, done)
        _apply(tenant, summary)
    summary.failures = failure_reasons(tenant)
    return summary


def _backfill_resource(
    tenant: Tenant,
    resource: Resource,
    client: SaleorGraphQL,
    page_size: int,
    progress: Progress | None,
    summary: BackfillSummary,
    drain_every: int,
) -> ResourceSummary:
    cursor, _ = BackfillCursor.objects.get_or_create(tenant=tenant, resource=resource.name)
    counts = ResourceSummary(done=cursor.done)
    pages = 0
    while not cursor.done:
        data = client.execute(resource.query, variables(page_size, cursor.after))
        page = data.get(resource.root)
        if not isinstance(page, dict):
            raise BackfillError(f"Saleor's answer has no {resource.root}")
        nodes = [e["node"] for e in page.get("edges") or [] if isinstance(e.get("node"), dict)]
        info = page.get("pageInfo") or {}
        end, more = info.get("endCursor"), bool(info.get("hasNextPage"))
        if more and (not end or end == cursor.after):
            raise BackfillError(f"Saleor announced more {resource.root} but gave no new cursor")
        with transaction.atomic():
            new = accept_many(tenant, [wrap(resource, n) for n in nodes], source=SOURCE)
            cursor.after = end or cursor.after
            cursor.fetched += len(nodes)
            cursor.done = not more
            cursor.finished_at = timezone.now() if cursor.done else None
            cursor.save()
        counts.fetched += len(nodes)
        counts.new += new
        counts.total = page.get("totalCount")
        counts.done = cursor.done
        pages += 1
        if pages % drain_every == 0:
            _apply(tenant, summary)
        if progress is not None:
            progress(resource.name, cursor.fetched, counts.total)
    return counts


def _apply(tenant: Tenant, summary: BackfillSummary) -> None:
    applied = drain(tenant_id=tenant.pk)
    summary.applied.add(applied)
    if summary.applied.claimed >= summary.next_analyze:
        refresh_statistics()
        summary.next_analyze = 2 * summary.applied.claimed


# The tables a backfill fills, whose statistics the planner needs to pick index lookups. The
# points ledger gets an entry per order: never analyzed, the planner took it for one row and
# read every earn entry of the store to find a batch's (two statements a batch), so 1M orders
# slowed from 640 to 210 orders/s by the 430,000th.
_FILLED = (
    "crm_order",
    "crm_profile",
    "crm_checkout",
    "crm_timeline",
    "crm_inbox_delivery",
    "crm_points_entry",
    "crm_customer_scores",
)


def refresh_statistics() -> None:
    """ANALYZE the tables a backfill fills, at 1k, 2k, 4k ... applied deliveries.

    A backfill grows them from nothing faster than autovacuum (when it runs at all) re-analyzes
    them; with statistics of near-empty tables the planner scans whole tables for each batch,
    and every page gets slower than the last. Doubling keeps it to a few dozen cheap, sampled
    ANALYZEs even for millions of orders.
    """
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {', '.join(_FILLED)}")


def failure_reasons(tenant: Tenant, limit: int = 10) -> list[FailureReason]:
    """Why backfilled deliveries of this Saleor failed, by code, most frequent first."""
    rows = (
        Delivery.objects.filter(tenant=tenant, source=SOURCE, state=DeliveryState.FAILED)
        .values("error_code")
        .annotate(count=Count("id"), example=Min("error_message"))
        .order_by("-count", "error_code")[:limit]
    )
    return [FailureReason(r["error_code"], r["count"], r["example"]) for r in rows]


def _token(tenant: Tenant) -> str:
    token = app_token(tenant)
    if not token:
        raise BackfillError(
            f"no usable app token is stored for {tenant.saleor_api_url} (was the encryption key "
            "changed?): reinstall the app"
        )
    return token


@contextmanager
def _one_backfill_per_tenant(tenant: Tenant) -> Iterator[None]:
    """Two runs for one Saleor would fetch the same pages and race on the cursor."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, tenant.pk])
        (locked,) = cur.fetchone() or (False,)
    if not locked:
        raise BackfillError(f"a backfill of {tenant.saleor_api_url} is already running")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, tenant.pk])
        except DatabaseError:
            pass  # the connection is gone, and its session lock with it

"""Accepting deliveries into the inbox and applying them in batches."""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..conf import crm_settings
from ..lifecycle import services as lifecycle
from ..loyalty.ledger import sync_customers, sync_orders
from ..ops.tracing import tracer
from ..predictions.rescore import rescore_customers
from ..profiles.queries import customers_of_orders
from ..profiles.services import apply_events
from ..profiles.sql import bound_cursor
from ..recovery import services as recovery
from ..segments.scores import refresh_scores
from ..tenants.host import host_writer
from ..tenants.models import Tenant
from .channels import SOURCES as CHANNEL_SOURCES
from .channels import apply_channel_deliveries
from .dispatch import schedule_scrub
from .errors import PayloadError
from .models import Delivery, DeliveryState
from .saleor_payloads import parse_delivery
from .stripe import STRIPE_SOURCE, apply_stripe_deliveries
from .types import Event, Kind

logger = logging.getLogger(__name__)


def _bound(cur: Any, timeout_ms: int | None, synchronous: bool) -> tuple[str, str] | None:
    """Limit how long the next statement may wait, in one round trip; the caller's limits when
    inside its transaction (to restore with ``_unbound``), else None.

    Saleor waits 18 s at most: rather answer 503 quickly than hang on a lock. Inside a caller's
    transaction (a plugin hook in Saleor's) the old limits come back after; ``synchronous=False``
    applies only to a transaction of our own. Outside any transaction the statement is its own
    and nothing is set (a session-wide setting would outlive it)."""
    if not connection.in_atomic_block:
        return None
    limit = f"{crm_settings.WEBHOOK_DB_TIMEOUT_MS if timeout_ms is None else timeout_ms}ms"
    own = not connection.savepoint_ids
    cur.execute(
        "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'),"
        " set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true),"
        " set_config('synchronous_commit', CASE WHEN %s THEN 'off'"
        " ELSE current_setting('synchronous_commit') END, true)",
        [limit, limit, own and not synchronous],
    )
    row = cur.fetchone()
    return None if own else (row[0], row[1])


def _unbound(cur: Any, saved: tuple[str, str] | None) -> None:
    if saved is not None:
        cur.execute(
            "SELECT set_config('lock_timeout', %s, true),"
            " set_config('statement_timeout', %s, true)",
            [saved[0], saved[1]],
        )


@dataclass(frozen=True)
class Accepted:
    delivery_id: int
    duplicate: bool


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def accept(
    tenant: Tenant,
    *,
    event: str,
    body: bytes,
    headers: dict[str, str],
    source: str = "webhook",
    dedupe_key: str | None = None,
    timeout_ms: int | None = None,
    synchronous: bool = True,
) -> Accepted:
    """Store a delivery before doing anything with it; a second copy is a no-op.

    Saleor sends no event id, so the key is (tenant, event, body hash). Senders that do (Stripe)
    pass ``dedupe_key``, hashed in place of the body. Raises a database error when the row
    cannot be stored within ``timeout_ms`` (default ``CRM_WEBHOOK_DB_TIMEOUT_MS``): the door
    answers 503 so the sender retries, or the plugin keeps the event for later.
    """
    digest = body_hash(dedupe_key.encode() if dedupe_key is not None else body)
    with connection.cursor() as cur:
        saved = _bound(cur, timeout_ms, synchronous)
        cur.execute(
            """
            INSERT INTO crm_inbox_delivery (tenant_id, source, event, body, headers, body_hash,
              state, attempts, error_code, error_message, received_at)
            VALUES (%s, %s, %s, %s, %s::jsonb, %s, 'pending', 0, '', '', now())
            ON CONFLICT DO NOTHING  -- the dedupe key (scaleout/partitions.py)
            RETURNING id
            """,
            [tenant.pk, source, event[:64], body, json.dumps(headers), digest],
        )
        row = cur.fetchone()
        _unbound(cur, saved)
    if row is not None:
        return Accepted(delivery_id=row[0], duplicate=False)
    existing = Delivery.objects.only("id").get(tenant=tenant, event=event[:64], body_hash=digest)
    return Accepted(delivery_id=existing.pk, duplicate=True)


def accept_many(
    tenant: Tenant,
    items: Sequence[tuple[str, bytes]],
    *,
    source: str = "backfill",
    timeout_ms: int | None = None,
    synchronous: bool = True,
) -> int:
    """Store many (event, body) deliveries in one statement; returns how many were new.

    One round trip per page instead of one per delivery is what makes a backfill of years of
    orders practical, and one per request what keeps the plugin's hooks cheap; the dedupe key
    is the same as ``accept``'s, so a delivery already stored by any door, or twice in
    ``items``, is stored once. ``timeout_ms`` and ``synchronous`` as for ``accept`` (a bound
    only inside a transaction; the backfill passes neither and waits as long as it takes).
    """
    if not items:
        return 0
    with connection.cursor() as cur:
        saved = _bound(cur, timeout_ms, synchronous) if timeout_ms is not None else None
        cur.execute(
            """
            INSERT INTO crm_inbox_delivery (tenant_id, source, event, body, headers, body_hash,
              state, attempts, error_code, error_message, received_at)
            SELECT %s, %s, e, b, '{}'::jsonb, h, 'pending', 0, '', '', now()
            FROM unnest(%s::text[], %s::bytea[], %s::text[]) AS x(e, b, h)
            ON CONFLICT DO NOTHING  -- the dedupe key (scaleout/partitions.py)
            """,
            [
                tenant.pk,
                source,
                [e for e, _ in items],
                [b for _, b in items],
                [body_hash(b) for _, b in items],
            ],
        )
        new = cur.rowcount
        _unbound(cur, saved)
        return new


@dataclass
class DrainResult:
    processed: int = 0
    ignored: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.processed + self.ignored + self.failed

    def add(self, other: DrainResult) -> None:
        self.processed += other.processed
        self.ignored += other.ignored
        self.failed += other.failed


def process_batch(
    limit: int, tenant_id: int | None = None, *, on_full: Callable[[], None] | None = None
) -> DrainResult:
    """Claim up to ``limit`` pending deliveries and apply them, all in one transaction.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``: concurrent workers take different rows.
    If the worker dies mid-batch, the transaction rolls back and the rows are simply pending
    again, so a delivery is applied exactly once or not at all. Batches of one tenant are
    serialized with an advisory lock, which keeps the set-based writes free of deadlocks; the
    cost is one writer per tenant at a time, and batching keeps that writer fast.
    """
    result = DrainResult()
    with (
        tracer.start_as_current_span("crm.inbox.batch", attributes={"crm.limit": limit}) as span,
        transaction.atomic(),
    ):
        _no_jit()
        claimed = _claim(limit, tenant_id)
        if on_full is not None and len(claimed) == limit:
            on_full()  # a backlog: ``drain`` starts its other appliers now
        by_tenant: dict[int, list[_Claimed]] = defaultdict(list)
        for delivery in claimed:
            by_tenant[delivery.tenant_id].append(delivery)
        span.set_attribute("crm.batch_size", len(claimed))
        span.set_attribute("crm.tenant_ids", sorted(by_tenant))
        for tid in sorted(by_tenant):
            # Parsing needs no lock: a second applier of the tenant parses its batch while
            # this one writes, and only the writes take turns.
            batch = _parse(by_tenant[tid])
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7321, tid])
            _apply_for_tenant(Tenant.objects.get(pk=tid), batch, result)
            if any(e.kind is Kind.CUSTOMER_DELETED for _, e in batch.parsed):
                # Their stored bodies are searched after commit, off the store's lock.
                transaction.on_commit(partial(schedule_scrub, tid))
        span.set_attribute("crm.processed", result.processed)
        span.set_attribute("crm.ignored", result.ignored)
        span.set_attribute("crm.failed", result.failed)
    if result.failed:
        logger.warning(
            "inbox batch set %s of %s deliveries aside as failed",
            result.failed,
            result.claimed,
            extra={"outcome": "failed", "count": result.failed, "tenant_id": tenant_id},
        )
    return result


class _Claimed(NamedTuple):
    id: int
    tenant_id: int
    source: str
    event: str
    body: bytes


def _models(claimed: list[_Claimed]) -> list[Delivery]:
    """Stripe's and the channels' deliveries as the models their services take (a few)."""
    if not claimed:
        return []
    return list(Delivery.objects.filter(pk__in=[d.id for d in claimed]).order_by("id"))


def _no_jit() -> None:
    """No JIT compilation for this batch's statements (``SET LOCAL``: this transaction only,
    so a host's connection, Saleor's in plugin mode, keeps its own setting).

    A batch's statements do milliseconds of work, and JIT compiling one costs hundreds: a cost
    estimate off by a wide factor is enough to cross PostgreSQL's thresholds. It happened: the
    ledger's lookups through ``crm_points_order`` (a partial expression index, whose statistics
    the planner does not use) were costed at 0.5% of the store's entries per order, and at
    500,000 entries two statements each spent ~330 ms compiling for ~6 ms of work (a plugin-mode
    backfill of 1M orders). Migration 0035's expression statistics fixed that estimate (at 1M
    entries ``ledger.sync_orders`` takes the same time with JIT on or off); this stays as the
    guard against the next estimate a growing store or a late ANALYZE gets wrong."""
    with connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")


def _claim(limit: int, tenant_id: int | None) -> list[_Claimed]:
    """Lock up to ``limit`` pending deliveries (oldest first), mark them processed and read
    them, in one statement.

    Marked processed before they are applied, in the same transaction: most deliveries end
    so, and writing that outcome here, before the store's lock is taken, lets a second
    applier claim while the first writes (an inbox row's update is one of the dearest writes
    of a batch: every index but the partial ones gets an entry). A batch that rolls back
    leaves them pending; the few that end otherwise are rewritten by ``_record_outcomes``.
    Ids first, bodies after: ``ORDER BY id ... FOR UPDATE`` cannot stop its sort early, and
    sorting every pending row with its body spilled to disk under a backlog (10 MB, 130-230 ms
    a batch with 7,000 pending); sorting ids costs next to nothing. Plain tuples, not models:
    building 1,000 model instances a batch, and binding 1,000 ids one by one (``pk__in``), cost
    more than the statement. Binary results: bodies as they are stored, not as hexadecimal
    text to decode (1,000 bodies: 10 ms less for the applier, 5 ms less for the database)."""
    with bound_cursor() as cur:
        cur.execute(
            f"""
            UPDATE crm_inbox_delivery SET state = 'processed', error_code = '',
              error_message = '', processed_at = now(), attempts = attempts + 1
            WHERE id = ANY(ARRAY(
              SELECT id FROM crm_inbox_delivery
              WHERE state = 'pending' {"" if tenant_id is None else "AND tenant_id = %s"}
              ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED))
            RETURNING id, tenant_id, source, event, body
            """,
            [limit] if tenant_id is None else [tenant_id, limit],
            binary=True,
        )
        rows = sorted(cur.fetchall())
        return [_Claimed(i, t, s, e, bytes(b)) for i, t, s, e, b in rows]


@dataclass
class _Parsed:
    """One tenant's share of a batch, parsed: Saleor's events, the deliveries they came in,
    Stripe's and the channels' deliveries (applied by their own services), outcomes so far."""

    deliveries: list[int]
    parsed: list[tuple[int, Event]]
    stripe_events: list[Delivery]
    replies: list[Delivery]
    outcome: dict[int, tuple[str, str, str]]


def _parse(claimed: list[_Claimed]) -> _Parsed:
    parsed: list[tuple[int, Event]] = []
    outcome: dict[int, tuple[str, str, str]] = {}
    stripe_events = _models([d for d in claimed if d.source == STRIPE_SOURCE])
    replies = _models([d for d in claimed if d.source in CHANNEL_SOURCES])
    saleor = [d for d in claimed if d.source not in (STRIPE_SOURCE, *CHANNEL_SOURCES)]
    for delivery in saleor:
        try:
            events = parse_delivery(delivery.event, delivery.body)
        except PayloadError as exc:
            outcome[delivery.id] = (DeliveryState.FAILED, exc.code, str(exc))
            continue
        if not events:
            outcome[delivery.id] = (DeliveryState.IGNORED, "", "")
        for event in events:
            event.extra["saleor_event"] = delivery.event
            parsed.append((delivery.id, event))
    return _Parsed([d.id for d in saleor], parsed, stripe_events, replies, outcome)


def _apply_for_tenant(tenant: Tenant, batch: _Parsed, result: DrainResult) -> None:
    deliveries, parsed, outcome = batch.deliveries, batch.parsed, batch.outcome
    stripe_events, replies = batch.stripe_events, batch.replies
    try:
        with transaction.atomic():
            failures = apply_events(tenant, parsed)
            _follow(tenant, parsed, failures)
    except OperationalError:
        raise
    except (IntegrityError, DatabaseError) as exc:
        # Something in this batch breaks a rule of the database. Apply deliveries one by one so
        # only the culprit is set aside, with the reason, and the rest still land.
        logger.warning(
            "batch of %s failed (%s); applying one by one", len(parsed), type(exc).__name__
        )
        failures = {}
        for delivery_id, event in parsed:
            try:
                with transaction.atomic():
                    refused = apply_events(tenant, [(delivery_id, event)])
                    _follow(tenant, [(delivery_id, event)], refused)
                    failures.update(refused)
            except OperationalError:
                raise
            except DatabaseError as single:
                failures[delivery_id] = PayloadError(
                    str(single).splitlines()[0], code="database_rule"
                )
    for delivery_id, error in failures.items():
        outcome[delivery_id] = (DeliveryState.FAILED, error.code, str(error))
    for delivery_id in deliveries:
        outcome.setdefault(delivery_id, (DeliveryState.PROCESSED, "", ""))
    if stripe_events:  # after Saleor's: a Stripe event then finds the orders of this batch
        outcome.update(apply_stripe_deliveries(tenant, stripe_events))
    if replies:  # after Saleor's too: a STOP then finds the customer this batch created
        outcome.update(apply_channel_deliveries(tenant, replies))
    _record_outcomes(outcome, result)


def _follow(tenant: Tenant, parsed: list[tuple[int, Event]], refused: dict) -> None:
    """What follows the records just applied, in the same transaction: points follow orders,
    bonuses follow new accounts and first orders, recovery flows follow orders and carts, and
    the customers' scores, stages, risk flags and predictions follow their orders."""
    applied = [e for d, e in parsed if d not in refused]
    order_ids = [e.order.order_id for e in applied if e.order is not None]
    user_ids = [e.customer.user_id for e in applied if e.customer is not None]
    checkout_ids = [e.checkout.checkout_id for e in applied if e.checkout is not None]
    sync_orders(tenant, order_ids)
    sync_customers(tenant, order_ids, user_ids)
    recovery.follow_orders(tenant, order_ids)
    if checkout_ids:
        recovery.follow_checkouts(tenant, checkout_ids)
    lifecycle.welcome_new_accounts(tenant, user_ids)
    now = timezone.now()
    customers = customers_of_orders(tenant, order_ids)  # once, for both refreshes
    refresh_scores(tenant, customers, now)
    rescore_customers(tenant, customers, now)


def _record_outcomes(outcome: dict[int, tuple[str, str, str]], result: DrainResult) -> None:
    """Count the outcomes, and rewrite those the claim did not already write (a delivery
    ignored or set aside as failed)."""
    now = timezone.now()
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for delivery_id, key in outcome.items():
        groups[key].append(delivery_id)
    for (state, code, message), ids in groups.items():
        if (state, code) != (DeliveryState.PROCESSED, ""):
            with connection.cursor() as cur:  # one array, not 1,000 bound ids (``pk__in``)
                cur.execute(
                    "UPDATE crm_inbox_delivery SET state = %s, error_code = %s,"
                    " error_message = %s, processed_at = %s WHERE id = ANY(%s::bigint[])",
                    [state, code, message[:2000], now, ids],
                )
        if state == DeliveryState.PROCESSED:
            result.processed += len(ids)
        elif state == DeliveryState.IGNORED:
            result.ignored += len(ids)
        else:
            result.failed += len(ids)


def drain(limit: int | None = None, tenant_id: int | None = None) -> DrainResult:
    """Process pending deliveries until none are left (or ``limit`` are done).

    Once a claim comes back full (a backlog), ``CRM_INBOX_APPLIER_THREADS`` - 1 more threads
    drain beside this one: each claims and parses its next batch while another's writes wait
    on PostgreSQL (the GIL is free while they wait). Not inside a transaction of the caller's,
    whose uncommitted rows other connections could not see."""
    total = DrainResult()
    helpers: list[_Applier] = []
    threads = crm_settings.INBOX_APPLIER_THREADS
    on_full = None
    if threads > 1 and limit is None and not connection.in_atomic_block:

        def on_full() -> None:
            # As soon as the first full batch is claimed: the others claim and parse theirs
            # while this one applies it.
            if not helpers:
                helpers.extend(_Applier(tenant_id) for _ in range(threads - 1))
                for helper in helpers:
                    helper.start()

    try:
        while limit is None or total.claimed < limit:
            batch = process_batch(crm_settings.INBOX_BATCH_SIZE, tenant_id, on_full=on_full)
            total.add(batch)
            if batch.claimed == 0:
                break
    finally:
        for helper in helpers:
            helper.join()
    for helper in helpers:
        total.add(helper.result)
        if helper.error is not None:
            raise helper.error
    return total


class _Applier(threading.Thread):
    """A thread draining beside ``drain``'s own loop, on its own connection."""

    def __init__(self, tenant_id: int | None) -> None:
        super().__init__(name="crm-applier", daemon=True)
        self.tenant_id = tenant_id
        self.result = DrainResult()
        self.error: BaseException | None = None
        self._context = contextvars.copy_context()  # the caller's trace span

    def run(self) -> None:
        try:
            self._context.run(self._drain)
        except BaseException as exc:  # raised in the caller's thread, after its own batches
            self.error = exc
        finally:
            connection.close()

    def _drain(self) -> None:
        with host_writer():
            while True:
                batch = process_batch(crm_settings.INBOX_BATCH_SIZE, self.tenant_id)
                self.result.add(batch)
                if batch.claimed == 0:
                    return


def reprocess(tenant: Tenant | None = None, *, failed_only: bool = True) -> int:
    """Put stored deliveries back in the queue, e.g. after loading a missing FX rate."""
    rows = Delivery.objects.all()
    if tenant is not None:
        rows = rows.filter(tenant=tenant)
    rows = (
        rows.filter(state=DeliveryState.FAILED)
        if failed_only
        else rows.filter(~Q(state=DeliveryState.PENDING))
    )
    return rows.update(state=DeliveryState.PENDING, error_code="", error_message="")

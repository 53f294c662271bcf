"""Storing deliveries that arrive together with one INSERT and one commit (the async door).

``accept`` stores one delivery per transaction: begin, insert, commit, three round trips and one
WAL flush for each. Under a burst the flush is what every request waits for. Here requests
that arrive while a commit is in flight queue up, and the next commit stores all of them with
one multi-row ``INSERT ... ON CONFLICT DO NOTHING``; each request is answered only after the
commit that holds its row, so a 2xx still means durable. Nothing waits for company: a request
alone goes out at once, so a quiet door pays no latency for this.

The row is the one ``accept`` writes (same columns, same dedupe key on the body hash, the
same timeouts), so a delivery stored by either door is a duplicate for the other.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.pq import ExecStatus, TransactionStatus

from .services import Accepted, body_hash

logger = logging.getLogger(__name__)

__all__ = ["GroupCommitter", "Pending", "Unstorable"]

# One statement, autocommitted: one round trip and one commit for the whole batch. It returns
# the rows it stored; a key it skipped was already there (a retry), read back by ``_EXISTING``.
# Reading the duplicates in the same statement (a join of the batch's keys with the inbox)
# cost more than the insert itself on every batch, and far more where the planner had no
# statistics for the inbox yet (a young store, autovacuum behind a burst): it scanned the
# whole table per batch, 3 ms of database time per delivery against 0.35 ms without it.
_STORE = """
INSERT INTO crm_inbox_delivery (tenant_id, source, event, body, headers, body_hash,
  state, attempts, error_code, error_message, received_at)
VALUES {rows}
ON CONFLICT DO NOTHING  -- the dedupe key (scaleout/partitions.py)
RETURNING id, tenant_id, event, body_hash
"""
_ROW = "(${}, ${}, ${}, ${}, ${}::jsonb, ${}, 'pending', 0, '', '', now())"
_ROW_PARAMS = 6
# Each row's parameters as sent: text, but the body in binary (bytea as stored, not hex).
_ROW_FORMATS = (0, 0, 0, 1, 0, 0)


def _json(headers: dict[str, str]) -> bytes:
    """orjson: ``json.dumps`` of each delivery's headers was 1.5% of the door's CPU."""
    return orjson.dumps(headers)


@functools.cache
def _store(rows: int) -> tuple[bytes, bytes, list[int]]:
    """The prepared statement for ``rows`` deliveries: its name, its SQL (a VALUES row of
    plain parameters each) and its parameter formats. Arrays of the batch (``unnest``) cost
    0.18 ms of Python per statement to dump (psycopg's list dumpers), more than the rest of
    the statement's client side."""
    values = ", ".join(
        _ROW.format(*range(r * _ROW_PARAMS + 1, (r + 1) * _ROW_PARAMS + 1)) for r in range(rows)
    )
    return (
        b"crm_group_store_%d" % rows,
        _STORE.format(rows=values).encode(),
        list(_ROW_FORMATS) * rows,
    )


def _set_once(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _ready(pgconn: pq.abc.PGconn, *, write: bool = False) -> None:
    """Until the connection's socket can be read (or written): one future, no timer."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    fd = pgconn.socket
    if write:
        loop.add_writer(fd, _set_once, future)
    else:
        loop.add_reader(fd, _set_once, future)
    try:
        await future
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


async def _result(pgconn: pq.abc.PGconn, expected: ExecStatus) -> pq.abc.PGresult:
    """The one result of the command just sent, raised as psycopg raises it when it is an
    error (so ``DataError`` and lost connections are told apart as before)."""
    while pgconn.flush():
        await _ready(pgconn, write=True)
    pgconn.consume_input()
    while pgconn.is_busy():
        await _ready(pgconn)
        pgconn.consume_input()
    results = []
    while (result := pgconn.get_result()) is not None:
        results.append(result)
    if not results:
        raise psycopg.OperationalError("the database sent no result")
    for result in results:
        if result.status != expected:
            raise pg_errors.error_from_result(result)
    return results[-1]


# A key the INSERT skipped: committed before it, or by another connection while it ran (the
# INSERT waited for that commit). One index probe per key (LATERAL), whatever the planner knows.
_EXISTING = """
SELECT dl.id, dl.tenant_id, dl.event, dl.body_hash
FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS k(t, e, d)
CROSS JOIN LATERAL (
  SELECT id, tenant_id, event, body_hash FROM crm_inbox_delivery
  WHERE tenant_id = k.t AND event = k.e AND body_hash = k.d
) dl
"""

Key = tuple[int, str, str]


class Unstorable(Exception):
    """This delivery can never be stored as sent (SQLSTATE class 22: a NUL, a value too long):
    a 400, as ``DataError`` is at the Django view."""


@dataclass
class Pending:
    """One delivery waiting for the commit that will hold it."""

    tenant_id: int
    event: str
    body: bytes
    headers: dict[str, str]
    source: str = "webhook"
    future: asyncio.Future[Accepted] = field(default_factory=lambda: _loop_future())

    @property
    def key(self) -> Key:
        return (self.tenant_id, self.event[:64], body_hash(self.body))


def _loop_future() -> asyncio.Future[Accepted]:
    return asyncio.get_running_loop().create_future()


class GroupCommitter:
    """Group commit over a few psycopg async connections; one instance per event loop.

    ``on_commit(tenant_ids)`` runs after each commit with the tenants it stored rows for (the
    door asks for one drain per tenant per batch, not one per delivery).
    """

    def __init__(
        self,
        conninfo_kwargs: dict[str, Any],
        *,
        on_commit: Callable[[set[int]], Awaitable[None]],
        connections: int = 1,
        max_batch: int = 256,
        timeout_ms: int = 3000,
    ) -> None:
        params = dict(conninfo_kwargs)
        # Saleor waits 18 s at most: rather answer 503 quickly than hang on a lock.
        options = params.pop("options", "") or ""
        params["options"] = (
            f"{options} -c lock_timeout={timeout_ms} -c statement_timeout={timeout_ms}".strip()
        )
        self._params = params
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._queue: list[Pending] = []
        self._flushing = 0
        self._max_flushes = connections
        self._max_batch = max_batch
        self._on_commit = on_commit
        # The statements (by row count) each connection has prepared.
        self._prepared: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], set[int]] = (
            weakref.WeakKeyDictionary()
        )

    async def store(
        self, tenant_id: int, event: str, body: bytes, headers: dict[str, str]
    ) -> Accepted:
        """Answer once the delivery is committed (or was already stored). Raises ``Unstorable``
        for a delivery that never can be, and ``psycopg.Error`` when the
        database cannot take it now (answer 503)."""
        item = Pending(tenant_id, event, body, headers)
        self._queue.append(item)
        if self._flushing < self._max_flushes:
            self._flushing += 1
            asyncio.get_running_loop().create_task(self._flush_loop())
        return await item.future

    async def fetchone(self, query: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """One row read on the door's own connections (a remembered tenant revalidated),
        which come back at once after an outage where Django's pool backs off."""
        try:
            return await self._fetchone(query, params)
        except psycopg.OperationalError as exc:
            if not _connection_lost(exc):
                raise
            await self.close()
            return await self._fetchone(query, params)

    async def _fetchone(self, query: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        async with self._connection() as conn, conn.cursor() as cur:
            await cur.execute(query, params)
            return await cur.fetchone()

    async def warm(self) -> None:
        """Open the connections before the first deliveries need them (a server starting
        under Saleor's retries otherwise pays a connect per early batch). Failing is fine:
        batches connect when they find none idle."""
        missing = self._max_flushes - len(self._idle)
        opened = await asyncio.gather(
            *(
                psycopg.AsyncConnection.connect(**self._params, autocommit=True)
                for _ in range(missing)
            ),
            return_exceptions=True,
        )
        for conn in opened:
            if isinstance(conn, psycopg.AsyncConnection):
                self._idle.append(conn)
            else:
                logger.warning("webhook door could not connect yet: %s", type(conn).__name__)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """An idle connection or a new one. Not psycopg_pool: after an outage its reconnect
        backoff kept answering 503 for seconds after the database was back; here each batch
        connects at once when it has none, and fails fast (a 503) while the database is down.
        At most ``connections`` batches are in flight and at most that many stay open."""
        conn = (
            self._idle.pop()
            if self._idle
            else await psycopg.AsyncConnection.connect(**self._params, autocommit=True)
        )
        try:
            yield conn
        finally:
            if (
                conn.closed
                or conn.broken
                or conn.info.transaction_status != TransactionStatus.IDLE
                or len(self._idle) >= self._max_flushes
            ):
                await conn.close()
            else:
                self._idle.append(conn)

    async def _flush_loop(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                try:
                    await self._flush(batch)
                except BaseException as exc:  # answer every waiter, whatever happened
                    for item in batch:
                        if not item.future.done():
                            item.future.set_exception(
                                exc if isinstance(exc, Exception) else RuntimeError(str(exc))
                            )
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._flushing -= 1

    async def _flush(self, batch: list[Pending]) -> None:
        try:
            answers = await self._insert(batch)
        except psycopg.DataError:
            answers = await self._one_by_one(batch)
        except psycopg.OperationalError as exc:
            if not _connection_lost(exc):
                raise
            # A connection broken while idle (PostgreSQL restarted, a proxy cut): the other idle
            # ones went with it, so drop them all and try once more on a fresh connection,
            # rather than a 503 for a database that is back.
            await self.close()
            answers = await self._insert(batch)
        stored = {item.tenant_id for item, answer in zip(batch, answers, strict=True) if answer}
        if stored:
            try:
                await self._on_commit(stored)
            except Exception:  # the periodic sweep applies what a lost request leaves
                logger.exception("could not request an inbox drain")
        for item, answer in zip(batch, answers, strict=True):
            if item.future.done():
                continue
            if answer is None:
                item.future.set_exception(Unstorable(item.event[:64]))
            else:
                item.future.set_result(answer)

    async def _insert(self, batch: list[Pending]) -> list[Accepted | None]:
        keys = [item.key for item in batch]
        async with self._connection() as conn:
            # Each key once, in key order: two workers' batches holding the same deliveries
            # (Saleor retrying while the first copy is being stored) then wait for each other
            # in the same order instead of deadlocking.
            firsts: dict[Key, Pending] = {}
            for item, key in zip(batch, keys, strict=True):
                firsts.setdefault(key, item)
            params: list[bytes | None] = []
            for key, item in sorted(firsts.items(), key=lambda pair: pair[0]):
                params += (
                    b"%d" % key[0],
                    item.source.encode(),
                    key[1].encode(),
                    item.body,
                    _json(item.headers),
                    key[2].encode(),
                )
            new = await self._store_rows(conn, len(firsts), params)
            old: dict[Key, int] = {}
            missing = [k for k in dict.fromkeys(keys) if k not in new]
            if missing:  # a retry: the only time a batch needs psycopg's cursor
                async with conn.cursor() as cur:
                    await cur.execute(
                        _EXISTING,
                        [[k[0] for k in missing], [k[1] for k in missing], [k[2] for k in missing]],
                    )
                    old = {(t, e, d): i for i, t, e, d in await cur.fetchall()}
        answers: list[Accepted | None] = []
        first: set[Key] = set()
        for key in keys:
            if key in new and key not in first:
                first.add(key)  # the first copy in the batch is the new row; later ones repeat it
                answers.append(Accepted(delivery_id=new[key], duplicate=False))
            elif key in new:
                answers.append(Accepted(delivery_id=new[key], duplicate=True))
            else:
                answers.append(Accepted(delivery_id=old[key], duplicate=True))
        return answers

    async def _store_rows(
        self, conn: psycopg.AsyncConnection[Any], rows: int, params: list[bytes | None]
    ) -> dict[Key, int]:
        """The batch's INSERT, straight on libpq: prepared once per connection and row count,
        sent, and its rows read back. psycopg's cursor spent about 0.1 ms of the worker's
        Python more per statement (its query conversion, prepare bookkeeping and a wait of a
        future, a timer and a task per round trip), a third of the statement's client cost."""
        name, sql, formats = _store(rows)
        # libpq ends a text parameter at its first NUL, so a NUL would store a shorter value
        # than the one sent: refuse it as psycopg does (a DataError, answered 400).
        pairs = zip(params, formats, strict=True)
        if any(fmt == 0 and p is not None and b"\x00" in p for p, fmt in pairs):
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        pgconn = conn.pgconn
        prepared = self._prepared.setdefault(conn, set())
        if rows not in prepared:
            pgconn.send_prepare(name, sql)
            await _result(pgconn, ExecStatus.COMMAND_OK)
            prepared.add(rows)
        pgconn.send_query_prepared(name, params, formats)
        result = await _result(pgconn, ExecStatus.TUPLES_OK)
        stored: dict[Key, int] = {}
        for row in range(result.ntuples):
            delivery_id, tenant_id, event, digest = (result.get_value(row, c) for c in range(4))
            key = (int(tenant_id or 0), bytes(event or b"").decode(), bytes(digest or b"").decode())
            stored[key] = int(delivery_id or 0)
        return stored

    async def _one_by_one(self, batch: list[Pending]) -> list[Accepted | None]:
        """A batch holding a delivery that cannot be stored: each in its own commit, so only
        the culprit is refused and the rest are stored."""
        answers: list[Accepted | None] = []
        for item in batch:
            try:
                answers.extend(await self._insert([item]))
            except psycopg.DataError:
                answers.append(None)
        return answers


def _connection_lost(exc: psycopg.OperationalError) -> bool:
    return exc.sqlstate is None or exc.sqlstate.startswith("08") or exc.sqlstate == "57P01"

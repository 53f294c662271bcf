"""A small HTTP/1.1 load client for the benchmarks: asyncio keep-alive connections sending
requests built (and signed) before the clock starts.

The previous client (``requests`` in 32 threads, signing each delivery as it sent it) shared two
cores with the server and spent more CPU per request than the door it measured; this one
spends a few tens of microseconds. ``bench/ingestion.py`` measures it against a trivial
endpoint in the same run (``trivial_app``), so its own ceiling is printed beside the results.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence


def build_request(path: str, host: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin1") + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> int:
        """Send one request and read its whole answer; returns the status."""
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def _pool(host: str, port: int, size: int) -> asyncio.Queue[Connection]:
    queue: asyncio.Queue[Connection] = asyncio.Queue()
    for conn in await asyncio.gather(*(Connection.open(host, port) for _ in range(size))):
        queue.put_nowait(conn)
    return queue


async def _close(queue: asyncio.Queue[Connection]) -> None:
    while not queue.empty():
        queue.get_nowait().close()


async def open_loop(
    count: int, rate: float, start: float, one: Callable[[int], Awaitable[None]]
) -> None:
    """Start ``one(i)`` at ``start + i / rate`` whether or not earlier ones have answered (an
    open loop: a server falling behind meets the same arrivals), and wait for all of them."""
    tasks = []
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)


async def _paced(
    host: str, port: int, requests: Sequence[bytes], rate: float, connections: int
) -> tuple[list[float], list[int], float]:
    idle = await _pool(host, port, connections)
    latencies = [0.0] * len(requests)
    statuses = [0] * len(requests)
    start = time.perf_counter() + 0.1

    async def one(i: int) -> None:
        due = start + i / rate
        conn = await idle.get()  # waiting for a free connection counts: it is queueing
        try:
            statuses[i] = await conn.send(requests[i])
        finally:
            idle.put_nowait(conn)
        latencies[i] = time.perf_counter() - due

    await open_loop(len(requests), rate, start, one)
    took = time.perf_counter() - start
    await _close(idle)
    return latencies, statuses, len(requests) / took


def paced(
    host: str, port: int, requests: Sequence[bytes], rate: float, connections: int = 32
) -> tuple[list[float], list[int], float]:
    """Open loop: request i is due at start + i/rate; its latency counts from then, so a
    server falling behind shows as growing latency. Returns latencies, statuses, rate achieved."""
    return asyncio.run(_paced(host, port, requests, rate, connections))


async def _flat_out(
    host: str, port: int, requests: Sequence[bytes], connections: int
) -> tuple[float, list[int], list[float]]:
    idle = await _pool(host, port, connections)
    conns = [idle.get_nowait() for _ in range(connections)]
    statuses = [0] * len(requests)
    latencies = [0.0] * len(requests)
    cursor = iter(range(len(requests)))

    async def sender(conn: Connection) -> None:
        for i in cursor:
            sent = time.perf_counter()
            statuses[i] = await conn.send(requests[i])
            latencies[i] = time.perf_counter() - sent

    start = time.perf_counter()
    await asyncio.gather(*(sender(conn) for conn in conns))
    took = time.perf_counter() - start
    for conn in conns:
        conn.close()
    return len(requests) / took, statuses, latencies


def flat_out(
    host: str, port: int, requests: Sequence[bytes], connections: int = 16
) -> tuple[float, list[int], list[float]]:
    """Closed loop: each connection sends its next request as soon as the last is answered."""
    return asyncio.run(_flat_out(host, port, requests, connections))


async def trivial_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Reads the body and answers what the door answers, doing nothing else: the client's and
    the HTTP server's own ceiling."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"success": true, "duplicate": false}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

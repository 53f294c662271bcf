"""How ``saleor-crm serve`` runs uvicorn.

With ``--workers`` above one, uvicorn binds the listening socket itself as
``socket.socket(family)``, whose protocol number is 0, and asyncio only turns on
``TCP_NODELAY`` for sockets whose protocol is ``IPPROTO_TCP``. The accepted connections then
keep Nagle's algorithm: uvicorn writes a response's headers and its body separately, the body
waits for the client's delayed ACK of the headers, and every answer took 40 ms more than its
work (a GET of the manifest: 45 ms with two workers, 3 ms with one). Saleor keeps its
connections open and sends one webhook after another, so this delay was most of the door's
cost.

uvicorn also writes an answer's status line and headers with one ``write`` and its body with
another: two ``send`` calls per answer, each waking the client, which reads twice. Under a
burst of webhooks those writes were a tenth of a worker's CPU. ``CoalescingTransport`` joins
what one turn of the event loop writes into one ``send``.

The HTTP parser is httptools (C, as in ``uvicorn[standard]``, pinned by Saleor too) when it is
installed, h11 (pure Python) otherwise: parsing is a fair share of a small request's CPU.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the peer already left; the protocol will see it
            pass


# Past this many bytes waiting, write at once: a large streamed answer (a CSV export) keeps
# uvicorn's flow control, which only sees what reached the real transport.
COALESCE_LIMIT = 64 * 1024


class CoalescingTransport:
    """A transport whose writes in one turn of the event loop go out as one ``send``.

    Everything but writing and closing is the wrapped transport's own. Closing writes what
    waits first, as a transport's ``close`` sends its buffer."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)
        self._size += len(data)
        if self._size > COALESCE_LIMIT:
            self.flush()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._size = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _prepared(transport: asyncio.Transport) -> asyncio.Transport:
    _no_delay(transport)
    return CoalescingTransport(transport)  # type: ignore[return-value]


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with ``TCP_NODELAY`` on every accepted connection, and each
    turn's writes joined."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_prepared(transport))


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's httptools protocol with ``TCP_NODELAY`` on every accepted connection,
        and each turn's writes joined."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_prepared(transport))


def http_protocol() -> type[asyncio.Protocol]:
    """httptools with ``TCP_NODELAY`` when installed, else h11 with it."""
    if HttpToolsProtocol is None:
        return NoDelayH11Protocol
    return NoDelayHttpToolsProtocol

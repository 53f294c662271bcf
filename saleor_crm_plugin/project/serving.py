"""How ``saleor-crm serve`` runs uvicorn.

With ``--workers`` above one, uvicorn binds the listening socket itself as
``socket.socket(family)``, whose protocol number is 0, and asyncio only turns on
``TCP_NODELAY`` for sockets whose protocol is ``IPPROTO_TCP``. The accepted connections then
keep Nagle's algorithm: uvicorn writes a response's headers and its body separately, the body
waits for the client's delayed ACK of the headers, and every answer took 40 ms more than its
work (a GET of the manifest: 45 ms with two workers, 3 ms with one). Saleor keeps its
connections open and sends one webhook after another, so this delay was most of the door's
cost.

The HTTP parser is httptools (C, as in ``uvicorn[standard]``, pinned by Saleor too) when it is
installed, h11 (pure Python) otherwise: parsing is a fair share of a small request's CPU.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the peer already left; the protocol will see it
            pass


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with ``TCP_NODELAY`` set on every accepted connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's httptools protocol with ``TCP_NODELAY`` on every accepted connection."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            _no_delay(transport)
            super().connection_made(transport)


def http_protocol() -> type[asyncio.Protocol]:
    """httptools with ``TCP_NODELAY`` when installed, else h11 with it."""
    if HttpToolsProtocol is None:
        return NoDelayH11Protocol
    return NoDelayHttpToolsProtocol

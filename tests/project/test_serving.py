"""``saleor-crm serve`` answers without Nagle's delay when it runs several workers."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from saleor_crm_plugin.project.serving import NoDelayH11Protocol, http_protocol


async def _ok(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _nodelay_of_accepted_connection(protocol: type[asyncio.Protocol]) -> int:
    """Serve on a socket bound as uvicorn binds it for ``--workers`` above one, connect, and
    read TCP_NODELAY on the server's side of the accepted connection."""
    sock = socket.socket(family=socket.AF_INET)  # protocol number 0, as uvicorn's bind_socket
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_ok, http=protocol, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        (connection,) = server.server_state.connections
        accepted = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
        value = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        return int(value)
    finally:
        server.should_exit = True
        await serving


@pytest.mark.parametrize(
    ("protocol", "nodelay"),
    [(H11Protocol, False), (NoDelayH11Protocol, True), (http_protocol(), True)],
    ids=["uvicorn-alone-keeps-nagle", "serve-turns-it-off", "serve-with-httptools-too"],
)
def test_accepted_connections_have_tcp_nodelay_with_several_workers(protocol, nodelay):
    # With Nagle on, each answer's body waited for the client's delayed ACK of its headers:
    # 40 ms per webhook. The first case shows the fault is real, so the second means something.
    assert bool(asyncio.run(_nodelay_of_accepted_connection(protocol))) is nodelay


def test_serve_parses_http_with_httptools_when_installed():
    # httptools is a dependency (Saleor pins it too): serve must not fall back to h11 silently.
    assert http_protocol().__name__ == "NoDelayHttpToolsProtocol"

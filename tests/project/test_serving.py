"""``saleor-crm serve`` answers without Nagle's delay when it runs several workers."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


class _NoDelayOnly(HttpToolsProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's httptools protocol with TCP_NODELAY and nothing else: the control case."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


# Linux's struct tcp_info: tcpi_data_segs_in (segments that carried data) sits at byte 152.
_DATA_SEGS_IN = 152


async def _serve(app, protocol: type[asyncio.Protocol], client) -> object:  # type: ignore[no-untyped-def]
    sock = socket.socket(family=socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, http=protocol, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        return await client(port)
    finally:
        server.should_exit = True
        await serving


async def _sized(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Answers as the webhook door does: a known length, head and body sent apart."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


async def _data_segments_of_one_answer(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    raw = writer.get_extra_info("socket")
    before = struct.unpack_from(
        "I", raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232), _DATA_SEGS_IN
    )[0]
    writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert await reader.readexactly(2) == b"ok"
    await asyncio.sleep(0.05)
    after = struct.unpack_from(
        "I", raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232), _DATA_SEGS_IN
    )[0]
    writer.close()
    return int(after - before)


@pytest.mark.parametrize(
    ("protocol", "segments"),
    [(_NoDelayOnly, 2), (http_protocol(), 1), (NoDelayH11Protocol, 1)],
    ids=["uvicorn-writes-head-and-body-apart", "serve-sends-one", "serve-with-h11-too"],
)
def test_an_answer_goes_out_in_one_segment(protocol, segments):
    """Each webhook answer is one ``send`` and one segment: the client wakes once, not twice.
    (uvicorn alone sends the head and the body apart, shown by the first case.)"""
    assert asyncio.run(_serve(_sized, protocol, _data_segments_of_one_answer)) == segments


async def _streamed(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for i in range(64):
        await send(
            {"type": "http.response.body", "body": bytes([65 + i % 26]) * 32768, "more_body": True}
        )
    await send({"type": "http.response.body", "body": b"end"})


async def _read_all(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


def test_a_large_streamed_answer_arrives_whole_and_in_order():
    data = asyncio.run(_serve(_streamed, http_protocol(), _read_all))
    head, _, chunked = data.partition(b"\r\n\r\n")
    body = b""
    while chunked:
        size_line, _, chunked = chunked.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        body, chunked = body + chunked[:size], chunked[size + 2 :]
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b"".join(bytes([65 + i % 26]) * 32768 for i in range(64)) + b"end"

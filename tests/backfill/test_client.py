"""The GraphQL client against a real HTTP server on loopback: what is retried, what is not."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from saleor_crm_plugin.backfill import client as graphql_client
from saleor_crm_plugin.backfill.client import BackfillError, SaleorGraphQL
from tests.loopback import LoopbackServer, Request

TOKEN = "secret-app-token-123"
QUERY = "query Orders($first:Int!,$after:String){orders(first:$first,after:$after){totalCount}}"
OK = b'{"data":{"orders":{"totalCount":28,"amount":6.205}},"extensions":{"cost":{}}}'


class Scripted(LoopbackServer):
    """Answers each request with the next scripted answer (the last one repeats)."""

    def __init__(self, *answers: tuple[int, object] | Callable[[Request], tuple[int, object]]):
        self.script = list(answers)
        super().__init__(self.next_answer)
        self.url = f"{self.base_url}/graphql/"

    def next_answer(self, request: Request) -> tuple[int, object]:
        answer = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return answer(request) if callable(answer) else answer


@pytest.fixture
def serve() -> Iterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    def start(*answers: tuple[int, object] | Callable[[Request], tuple[int, object]]) -> Scripted:
        servers.append(Scripted(*answers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(graphql_client, "sleep", waited.append)
    return waited


def run(server: Scripted, **options) -> dict:
    with SaleorGraphQL(server.url, TOKEN, **options) as client:
        return client.execute(QUERY, {"first": 2, "after": None})


def test_posts_the_query_with_the_token_and_keeps_amounts_exact(serve):
    saleor = serve((200, OK))
    assert run(saleor) == {"orders": {"totalCount": 28, "amount": Decimal("6.205")}}
    (request,) = saleor.requests
    assert (request.method, request.path) == ("POST", "/graphql/")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json() == {"query": QUERY, "variables": {"first": 2, "after": None}}


def test_server_errors_are_retried_with_growing_pauses(serve, sleeps):
    saleor = serve((502, b"Bad Gateway"), (503, b""), (500, {"errors": []}), (200, OK))
    assert run(saleor)["orders"]["totalCount"] == 28
    assert (len(saleor.requests), sleeps) == (4, [0.5, 1.0, 2.0])


def test_a_rate_limit_is_retried(serve, sleeps):
    saleor = serve((429, {"errors": [{"message": "Too many requests"}]}), (200, OK))
    assert run(saleor)["orders"]["totalCount"] == 28
    assert sleeps == [0.5]


def test_saleor_failing_every_time_gives_up_after_five_attempts(serve, sleeps):
    saleor = serve((500, b"<h1>Server Error (500)</h1>"))
    with pytest.raises(BackfillError, match=r"^Saleor answered 500 after 5 attempts$"):
        run(saleor)
    assert (len(saleor.requests), sleeps) == (5, [0.5, 1.0, 2.0, 4.0])


def test_no_answer_at_all_is_retried_then_reported(sleeps):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with SaleorGraphQL(f"http://127.0.0.1:{port}/graphql/", TOKEN, attempts=3) as client:
        with pytest.raises(
            BackfillError, match=r"Saleor did not answer \(ConnectionError\) after 3 attempts"
        ):
            client.execute(QUERY, {})
    assert sleeps == [0.5, 1.0]


def test_a_slow_answer_times_out_per_the_setting(serve, settings, sleeps):
    def slow(request: Request) -> tuple[int, object]:
        time.sleep(0.5)
        return 200, OK

    settings.CRM_HTTP_TIMEOUT_SECONDS = 0.02  # read timeout: six times that
    saleor = serve(slow)
    with pytest.raises(BackfillError, match=r"did not answer \(ReadTimeout\) after 2 attempts"):
        run(saleor, attempts=2)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_reported_at_once(serve, sleeps, status):
    saleor = serve((status, {"errors": [{"message": "Invalid token."}]}))
    with pytest.raises(BackfillError, match=rf"refused the app token \({status}\).*MANAGE_ORDERS"):
        run(saleor)
    assert (len(saleor.requests), sleeps) == (1, [])


def test_a_bad_request_is_not_retried(serve, sleeps):
    saleor = serve((400, {"errors": [{"message": "Syntax Error"}]}))
    with pytest.raises(BackfillError, match=r"^Saleor refused the request \(400\)$"):
        run(saleor)
    assert (len(saleor.requests), sleeps) == (1, [])


def test_graphql_errors_name_the_problem(serve, sleeps):
    errors = [
        {"message": "You need one of the following permissions: MANAGE_ORDERS"},
        {"message": "Requesting 500 records on the `orders` connection exceeds the limit"},
    ]
    saleor = serve((200, {"data": None, "errors": errors}))
    with pytest.raises(BackfillError) as info:
        run(saleor)
    assert str(info.value) == (
        "Saleor answered with errors: You need one of the following permissions: MANAGE_ORDERS; "
        "Requesting 500 records on the `orders` connection exceeds the limit"
    )
    assert (len(saleor.requests), sleeps) == (1, [])


def test_an_answer_that_is_not_graphql_is_reported(serve):
    saleor = serve((200, b"<!doctype html><title>Saleor Dashboard</title>"))
    with pytest.raises(BackfillError, match=r"not JSON: is the API URL the GraphQL endpoint"):
        run(saleor)


def test_the_token_is_in_no_message_and_no_log_line(serve, sleeps, caplog):
    saleor = serve((503, b"Service Unavailable"), (401, {"errors": [{"message": "Invalid"}]}))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BackfillError) as info:
        run(saleor)
    assert "retrying" in caplog.text
    assert TOKEN not in caplog.text and TOKEN not in str(info.value)

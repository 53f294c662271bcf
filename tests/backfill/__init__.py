"""A Saleor stand-in on loopback that answers the recorded backfill pages byte for byte."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from saleor_crm_plugin import saleor_documents
from saleor_crm_plugin.webhooks.manifest import RECORDING_ADDITIONS
from tests import recordings
from tests.loopback import LoopbackServer, Request

PAGES = recordings.FIXTURES / "graphql"
TOKEN = "backfill-app-token"
PAGE_SIZE = 2  # what the recording asked for: customers(first: 2), orders(first: 2)


def recorded_pages() -> Iterator[tuple[dict[str, Any], bytes]]:
    """(request body, response bytes) of every recorded page, in recording order; the query as
    we send it now, with the order fields added since the recording (the recorded answers lack
    them, as an older Saleor's would)."""
    for request in sorted(PAGES.glob("*.request.json")):
        response = request.with_name(request.name.replace(".request.", ".response."))
        body = json.loads(request.read_text())
        for old, new in RECORDING_ADDITIONS:
            body["query"] = body["query"].replace(old, new)
        yield body, response.read_bytes()


def root_of(query: str) -> str:
    return next((r for r in ("customers", "checkouts") if f"{r}(" in query), "orders")


def open_checkouts() -> list[dict[str, Any]]:
    """The recorded store's checkouts that never became an order, newest first, each in its
    last recorded state: what Saleor's ``checkouts`` connection held after the recording."""
    latest: dict[str, dict[str, Any]] = {}
    ordered: set[str] = set()
    for item in recordings.deliveries():
        body = json.loads(item.body)
        if body.get("checkout"):
            latest[body["checkout"]["id"]] = body["checkout"]
        if body.get("order"):
            ordered.add(body["order"].get("checkoutId"))
    still_open = [c for c in latest.values() if c["id"] not in ordered]
    return sorted(still_open, key=lambda c: c["created"], reverse=True)


def checkout_pages() -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(after, response) of each page of ``checkouts``, PAGE_SIZE nodes a page.

    The recording has no ``checkouts`` pages, so these are built from the recorded webhook
    payloads: the subscription and the backfill select the same ``CheckoutFields``, so a node
    has exactly the shape Saleor would answer. The query itself is validated against Saleor's
    schema in ``test_queries``.
    """
    nodes = open_checkouts()
    after: str | None = None
    for start in range(0, len(nodes), PAGE_SIZE):
        chunk = nodes[start : start + PAGE_SIZE]
        end = f"checkout-cursor-{start + len(chunk)}"
        more = start + PAGE_SIZE < len(nodes)
        edges = [
            {"cursor": f"checkout-cursor-{start + i + 1}", "node": n} for i, n in enumerate(chunk)
        ]
        page = {"totalCount": len(nodes), "pageInfo": {"hasNextPage": more, "endCursor": end}}
        yield after, {"data": {"checkouts": {**page, "edges": edges}}}
        after = end


class RecordedSaleor(LoopbackServer):
    """Answers a request only if its query text and variables (``first``, ``after``) equal a
    recorded request's, with that request's recorded response bytes.

    The recording stops after two pages of each resource (page 2 still says ``hasNextPage``),
    so the request for the cursor after page 2 gets an empty last page: this store ends there.
    Anything else gets a 400, so a query that drifted from the recorded one fails loudly.
    """

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.recorded: dict[tuple[str, int, str | None], bytes] = {}
        self.last_cursor: dict[str, tuple[str, int, str]] = {}
        for body, response in recorded_pages():
            query, variables = body["query"], body["variables"]
            self.recorded[(query, variables["first"], variables["after"])] = response
            page = json.loads(response)["data"][root_of(query)]
            self.last_cursor[root_of(query)] = (
                query,
                page["totalCount"],
                page["pageInfo"]["endCursor"],
            )
        checkouts = saleor_documents.backfill("checkouts")
        for after, answer in checkout_pages():
            self.recorded[(checkouts, PAGE_SIZE, after)] = json.dumps(answer).encode()
        self.fail: dict[str | None, int] = {}  # after cursor -> status answered until removed
        self.graphql_errors: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()
        super().__init__(self.answer_graphql)
        self.api_url = f"{self.base_url}/graphql/"

    @property
    def authorizations(self) -> list[str | None]:
        return [r.headers.get("Authorization") for r in self.requests]

    def afters(self, since: int = 0) -> list[tuple[str, str | None]]:
        """(resource, after) of each GraphQL request received, from the ``since``-th on."""
        bodies = [r.json() for r in self.requests[since:]]
        return [(root_of(b["query"]), b["variables"]["after"]) for b in bodies]

    def page(self, resource: str, number: int) -> dict[str, Any]:
        """A recorded response, parsed, for building altered pages."""
        ordered = [r for b, r in recorded_pages() if root_of(b["query"]) == resource]
        return json.loads(ordered[number - 1])

    def replace_page(self, resource: str, number: int, page: dict[str, Any]) -> None:
        ordered = [b for b, _ in recorded_pages() if root_of(b["query"]) == resource]
        body = ordered[number - 1]
        key = (body["query"], body["variables"]["first"], body["variables"]["after"])
        with self._lock:
            self.recorded[key] = json.dumps(page).encode()

    def answer_graphql(self, request: Request) -> tuple[int, object]:
        if request.method != "POST" or request.path != "/graphql/":
            return 404, {"errors": [{"message": "not found"}]}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"errors": [{"message": "Invalid token.", "extensions": {}}]}
        body = request.json()
        query, variables = body["query"], body["variables"]
        with self._lock:
            if self.graphql_errors is not None:
                return 200, {"data": None, "errors": self.graphql_errors}
            if variables.get("after") in self.fail:
                return self.fail[variables.get("after")], b"<h1>Server Error (500)</h1>"
            key = (query, variables.get("first"), variables.get("after"))
            if key in self.recorded:
                return 200, self.recorded[key]
        root = root_of(query)
        last_query, total, last = self.last_cursor[root]
        if (query, variables.get("first"), variables.get("after")) == (last_query, PAGE_SIZE, last):
            end = {"hasNextPage": False, "endCursor": None}
            return 200, {"data": {root: {"totalCount": total, "pageInfo": end, "edges": []}}}
        return 400, {"errors": [{"message": f"no recording answers {variables!r}"}]}

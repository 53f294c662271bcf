"""Backfill through Saleor's GraphQL, against a stand-in serving the recorded pages."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from saleor_crm_plugin.backfill.client import BackfillError
from saleor_crm_plugin.backfill.models import BackfillCursor
from saleor_crm_plugin.backfill.services import backfill
from saleor_crm_plugin.cli import main
from saleor_crm_plugin.models import Delivery, OrderRecord, Profile
from saleor_crm_plugin.tenants.services import register_tenant
from tests import recordings
from tests.loopback import LoopbackServer, Request

pytestmark = pytest.mark.django_db(transaction=True)
PAGES = recordings.FIXTURES / "graphql"
TOKEN = "backfill-app-token"


class RecordedSaleor(LoopbackServer):
    """Answers the recorded backfill requests with the recorded bytes.

    The recording stops after two pages of each resource (page 2 still says hasNextPage), so a
    request for the cursor after page 2 gets an empty last page: this stand-in's store ends there.
    """

    def __init__(self) -> None:
        self.recorded: dict[tuple[str, str | None], bytes] = {}
        for request in sorted(PAGES.glob("*.request.json")):
            body = json.loads(request.read_text())
            root = "customers" if "customers(" in body["query"] else "orders"
            response = request.with_name(request.name.replace(".request.", ".response."))
            self.recorded[(root, body["variables"]["after"])] = response.read_bytes()
        self.fail_after: str | None = None
        super().__init__(self.answer_graphql)
        self.api_url = f"{self.base_url}/graphql/"

    def answer_graphql(self, request: Request) -> tuple[int, object]:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"errors": [{"message": "Invalid token"}]}
        body = request.json()
        root = "customers" if "customers(" in body["query"] else "orders"
        after = body["variables"]["after"]
        if self.fail_after is not None and after == self.fail_after:
            return 500, {"errors": [{"message": "Internal Server Error"}]}
        if (root, after) in self.recorded:
            return 200, self.recorded[(root, after)]
        end = {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}
        return 200, {"data": {root: end}}


@pytest.fixture
def saleor() -> Iterator[RecordedSaleor]:
    server = RecordedSaleor()
    yield server
    server.close()


@pytest.fixture
def shop(saleor, rates):
    return register_tenant(api_url=saleor.api_url, app_token=TOKEN, base_currency="EUR")


def snapshot() -> list[tuple]:
    return sorted(
        Profile.objects.values_list(
            "email", "user_id", "orders_count", "spent_gross_minor", "refunded_minor", "language"
        )
    )


def test_backfill_imports_recorded_customers_and_orders(saleor, shop):
    summary = backfill(shop, page_size=2)
    assert {r: (c.fetched, c.new) for r, c in summary.resources.items()} == {
        "customers": (4, 4),
        "orders": (4, 4),
    }
    assert summary.applied.failed == 0
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in saleor.requests)
    orders = dict(OrderRecord.objects.values_list("number", "total_gross_base_minor"))
    # 28: 15.50 EUR; 27: 40 USD / 1.05; 26: 1.59 USD / 1.05 (cancelled); 25: 85.390 KWD / 0.32
    assert orders == {"28": 1550, "27": 3810, "26": 151, "25": 26684}
    fahad = Profile.objects.get(email="fahad@example.kw")
    assert (fahad.user_id, fahad.orders_count, fahad.spent_gross_minor) == (None, 1, 26684)
    refund = Profile.objects.get(email="refund.me@example.com")
    assert (refund.refunded_minor, refund.refund_rate) == (3810, 1)
    assert Profile.objects.get(email="claire.dupont@example.fr").language == "fr"


def test_running_it_again_adds_nothing(saleor, shop):
    backfill(shop, page_size=2)
    before = (Delivery.objects.count(), snapshot())
    again = backfill(shop, page_size=2, restart=True)
    assert sum(c.new for c in again.resources.values()) == 0
    assert (Delivery.objects.count(), snapshot()) == before


def test_an_interrupted_backfill_resumes_after_the_last_stored_page(saleor, shop):
    page1 = json.loads((PAGES / "003-orders-page1.response.json").read_text())
    saleor.fail_after = page1["data"]["orders"]["pageInfo"]["endCursor"]
    with pytest.raises(BackfillError, match="500 after 5 attempts"):
        backfill(shop, page_size=2, client=None)
    cursor = BackfillCursor.objects.get(resource="orders")
    assert (cursor.fetched, cursor.done) == (2, False)
    saleor.fail_after = None
    asked = len(saleor.requests)
    backfill(shop, page_size=2)
    afters = [r.json()["variables"]["after"] for r in saleor.requests[asked:]]
    assert afters[0] == page1["data"]["orders"]["pageInfo"]["endCursor"]  # resumed at page 2
    assert OrderRecord.objects.count() == 4


def test_a_newer_live_webhook_is_not_overwritten_by_an_older_backfilled_state(saleor, shop):
    from saleor_crm_plugin.inbox.services import accept, drain

    live = recordings.delivery(89)  # order 27 fully refunded, live
    accept(shop, event=live.event, body=live.body, headers={})
    drain()
    # The backfill page shows order 27 as it was before the refund (an older updatedAt).
    page = json.loads(saleor.recorded[("orders", None)])
    node = next(e["node"] for e in page["data"]["orders"]["edges"] if e["node"]["number"] == "27")
    node["updatedAt"] = node["created"]
    node["totalRefunded"]["amount"] = 0.0
    saleor.recorded[("orders", None)] = json.dumps(page).encode()
    backfill(shop, page_size=2)
    order = OrderRecord.objects.get(number="27")
    assert order.refunded_minor == 4000
    assert Profile.objects.get(email="refund.me@example.com").refunded_minor == 3810


def test_a_rejected_token_stores_nothing_and_says_why(saleor, shop):
    from saleor_crm_plugin.tenants import crypto

    shop.app_token_encrypted = crypto.encrypt("revoked")
    shop.save()
    with pytest.raises(BackfillError, match="app token"):
        backfill(shop)
    assert Delivery.objects.count() == 0


def test_the_command_prints_a_summary(saleor, shop, capsys):
    assert main(["backfill", "--page-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "customers" in out and "orders" in out and "applied" in out

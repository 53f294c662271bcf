"""Backfill of a store's history, against a stand-in serving the recorded GraphQL pages.

The recording holds the first two pages (two nodes each) of customers and of orders, taken after
delivery 114: 4 registered customers (none of whose orders are on those pages) and 4 guest orders
(#28 EUR, #27 USD fully refunded, #26 USD cancelled, #25 KWD). FX from tests/data/rates.csv, the
rate valid when each order was placed (2026-11-23, so the 2026-11-01 rates): 1 EUR = 1.05 USD
= 0.32 KWD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import connection

from saleor_crm_plugin.backfill import client as graphql_client
from saleor_crm_plugin.backfill.client import BackfillError
from saleor_crm_plugin.backfill.models import BackfillCursor
from saleor_crm_plugin.backfill.queries import RESOURCES
from saleor_crm_plugin.backfill.services import backfill, refresh_statistics, wrap
from saleor_crm_plugin.cli import main
from saleor_crm_plugin.inbox.saleor_payloads import parse_delivery
from saleor_crm_plugin.inbox.services import accept, drain, reprocess
from saleor_crm_plugin.models import CheckoutRecord, Delivery, OrderRecord, Profile
from saleor_crm_plugin.tenants import crypto
from saleor_crm_plugin.tenants.services import plugin_tenant, register_tenant
from tests import recordings
from tests.backfill import PAGE_SIZE, TOKEN, RecordedSaleor, open_checkouts
from tests.conftest import DATA

pytestmark = pytest.mark.django_db(transaction=True)
CUSTOMERS, ORDERS, CHECKOUTS = RESOURCES


def totals(orders: int, gross: int, refunded: int = 0) -> dict[str, int]:
    return {"orders": orders, "gross_minor": gross, "net_minor": gross, "refunded_minor": refunded}


# email: (user id, orders, cancelled, spent EUR minor, refunded EUR minor, per currency,
#         language, country)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "piotr.nowak@example.pl": ("VXNlcjo1MQ==", 0, 0, 0, 0, {}, "pl", ""),
    "claire.dupont@example.fr": ("VXNlcjo1MA==", 0, 0, 0, 0, {}, "fr", "FR"),
    "jan.kowalski@example.pl": ("VXNlcjo0Nw==", 0, 0, 0, 0, {}, "pl", "PL"),
    "anna.mueller@example.de": ("VXNlcjo0Ng==", 0, 0, 0, 0, {}, "en", "DE"),
    # 15.50 EUR
    "self.delete@example.com": (None, 1, 0, 1550, 0, {"EUR": totals(1, 1550)}, "en", "DE"),
    # 40.00 USD / 1.05 = 38.095..., refunded in full
    "refund.me@example.com": (None, 1, 0, 3810, 3810, {"USD": totals(1, 4000, 4000)}, "en", "US"),
    # cancelled (1.59 USD charged, never refunded): not a purchase
    "cancel.me@example.com": (None, 0, 1, 0, 0, {}, "en", "US"),
    # 85.390 KWD / 0.32 = 266.84375
    "fahad@example.kw": (None, 1, 0, 26684, 0, {"KWD": totals(1, 85390)}, "ar", "KW"),
    # two open checkouts, no order yet: known by e-mail for recovery
    "maria.rossi@example.it": (None, 0, 0, 0, 0, {}, "it", ""),
}


def profiles() -> dict[str, tuple[Any, ...]]:
    fields = (
        "email",
        "user_id",
        "orders_count",
        "cancelled_orders_count",
        "spent_gross_minor",
        "refunded_minor",
        "totals_by_currency",
        "language",
        "country",
    )
    return {row[0]: row[1:] for row in Profile.objects.values_list(*fields)}


def everything() -> tuple[Any, ...]:
    """What a merchant could see, down to when each profile and order last changed."""
    return (
        sorted(Profile.objects.values_list("email", "updated_at", "spent_gross_minor")),
        sorted(OrderRecord.objects.values_list("number", "issued_at", "refunded_minor")),
        Delivery.objects.count(),
    )


@pytest.fixture
def saleor() -> Iterator[RecordedSaleor]:
    server = RecordedSaleor()
    yield server
    server.close()


@pytest.fixture
def shop(saleor, rates):
    return register_tenant(api_url=saleor.api_url, app_token=TOKEN, base_currency="EUR")


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(graphql_client, "sleep", waited.append)
    return waited


def replay(tenant, *seqs: int) -> None:
    """Live webhook deliveries, stored and applied as the webhook door does."""
    for seq in seqs:
        live = recordings.delivery(seq)
        accept(tenant, event=live.event, body=live.body, headers={})
    drain()


def test_the_recorded_pages_become_profiles_with_exact_spend(saleor, shop):
    summary = backfill(shop, page_size=PAGE_SIZE)

    assert profiles() == EXPECTED
    assert {r: (c.fetched, c.new, c.total, c.done) for r, c in summary.resources.items()} == {
        "customers": (4, 4, 24, True),
        "orders": (4, 4, 28, True),
        "checkouts": (3, 3, 3, True),
    }
    assert (summary.applied.processed, summary.applied.failed, summary.failures) == (11, 0, [])
    assert set(saleor.authorizations) == {f"Bearer {TOKEN}"}
    page1 = saleor.page("customers", 1)["data"]["customers"]["pageInfo"]["endCursor"]
    page2 = saleor.page("customers", 2)["data"]["customers"]["pageInfo"]["endCursor"]
    assert saleor.afters()[:3] == [("customers", None), ("customers", page1), ("customers", page2)]
    assert [r for r, _ in saleor.afters()[3:]] == ["orders"] * 3 + ["checkouts"] * 2
    assert set(Delivery.objects.values_list("source", "event", "state")) == {
        ("backfill", "customer_updated", "processed"),
        ("backfill", "order_updated", "processed"),
        ("backfill", "checkout_updated", "processed"),
    }
    assert dict(OrderRecord.objects.values_list("number", "total_gross_base_minor")) == {
        "28": 1550,
        "27": 3810,
        "26": 151,
        "25": 26684,
    }
    cursor = BackfillCursor.objects.get(tenant=shop, resource="orders")
    assert (cursor.fetched, cursor.done, cursor.finished_at is not None) == (4, True, True)


def test_open_checkouts_are_kept_for_recovery_and_join_their_profiles(saleor, shop):
    backfill(shop, page_size=PAGE_SIZE)
    open_ones = {c["id"] for c in open_checkouts()}
    records = CheckoutRecord.objects.filter(tenant=shop)
    assert set(records.values_list("checkout_id", flat=True)) == open_ones
    assert sorted(records.values_list("email", "profile__email", "completed_order_id")) == [
        ("jan.kowalski@example.pl", "jan.kowalski@example.pl", None),
        ("maria.rossi@example.it", "maria.rossi@example.it", None),
        ("maria.rossi@example.it", "maria.rossi@example.it", None),
    ]
    assert all(r.total_gross_minor > 0 and r.lines for r in records)


def test_a_backfilled_checkout_reads_like_the_webhook_of_that_state():
    (node,) = [c for c in open_checkouts() if c["email"] == "jan.kowalski@example.pl"]
    event, body = wrap(CHECKOUTS, node)
    (backfilled,) = parse_delivery(event, body)
    live = next(d for d in recordings.deliveries() if json.loads(d.body).get("checkout") == node)
    assert backfilled.checkout == parse_delivery(live.event, live.body)[0].checkout


def test_a_wrapped_node_is_the_webhook_saleor_sends_for_that_state():
    """One parser: the backfilled order #27 reads exactly like the live delivery of the same
    state (089, order_fully_refunded), and its version is the order's own updatedAt."""
    page = json.loads(
        (recordings.FIXTURES / "graphql" / "003-orders-page1.response.json").read_text(),
        parse_float=Decimal,
    )
    node = page["data"]["orders"]["edges"][1]["node"]
    event, body = wrap(ORDERS, node)
    (backfilled,) = parse_delivery(event, body)
    (live,) = parse_delivery("order_fully_refunded", recordings.delivery(89).body)

    assert event == "order_updated"
    assert backfilled.order == live.order
    assert (
        backfilled.issued_at.isoformat() == node["updatedAt"] == "2026-11-23T13:07:19.519584+00:00"
    )
    assert body.startswith(b'{"__typename":"OrderUpdated","issuedAt":"2026-11-23T13:07:19.519584')
    assert wrap(ORDERS, node) == (event, body)  # the same node, the same bytes


def test_amounts_keep_the_digits_saleor_sent():
    node = {"id": "T3JkZXI6MQ==", "updatedAt": "2026-11-23T13:07:13+00:00", "total": {}}
    node["total"] = {"gross": {"amount": Decimal("6.205"), "currency": "KWD"}}
    node["big"] = Decimal("12345678901234567.891")  # float() would make it ...67.89
    _event, body = wrap(ORDERS, node)
    assert b'"amount":6.205,' in body and b'"big":12345678901234567.891}' in body


def test_running_it_again_adds_nothing_and_changes_no_profile(saleor, shop):
    backfill(shop, page_size=PAGE_SIZE)
    before = everything()
    asked = len(saleor.requests)

    again = backfill(shop, page_size=PAGE_SIZE)  # finished before: nothing to ask
    assert len(saleor.requests) == asked
    assert {r: (c.fetched, c.done) for r, c in again.resources.items()} == {
        "customers": (0, True),
        "orders": (0, True),
        "checkouts": (0, True),
    }

    restarted = backfill(shop, page_size=PAGE_SIZE, restart=True)  # every page again
    assert {r: (c.fetched, c.new) for r, c in restarted.resources.items()} == {
        "customers": (4, 0),
        "orders": (4, 0),
        "checkouts": (3, 0),
    }
    assert restarted.applied.claimed == 0
    assert everything() == before
    assert profiles() == EXPECTED


def crm_row_counts() -> dict[str, int]:
    tables = [t for t in connection.introspection.table_names() if t.startswith("crm_")]
    with connection.cursor() as cur:
        counts = {}
        for table in tables:
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
    return counts


def test_every_table_growing_with_the_orders_gets_statistics_while_it_grows(saleor, shop):
    """The planner reads a never-analyzed table as nearly empty; one growing by an entry per
    order was then scanned whole for every batch (the plugin-mode backfill slowed as it went)."""
    before = crm_row_counts()
    backfill(shop, page_size=PAGE_SIZE)
    orders = OrderRecord.objects.count()
    grown = sorted(t for t, n in crm_row_counts().items() if n - before.get(t, 0) >= orders)
    assert {"crm_order", "crm_points_entry"} <= set(grown)
    refresh_statistics()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples < 0", [grown]
        )
        assert cur.fetchall() == []  # -1: never analyzed


def test_an_interrupted_backfill_resumes_after_the_last_stored_page(saleor, shop, sleeps):
    page1 = saleor.page("orders", 1)["data"]["orders"]["pageInfo"]["endCursor"]
    saleor.fail[page1] = 500
    with pytest.raises(BackfillError, match="Saleor answered 500 after 5 attempts"):
        backfill(shop, page_size=PAGE_SIZE)
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert saleor.afters()[-5:] == [("orders", page1)] * 5
    cursor = BackfillCursor.objects.get(tenant=shop, resource="orders")
    assert (cursor.after, cursor.fetched, cursor.done) == (page1, 2, False)
    # What was stored before the failure is already applied: customers, then orders #28, #27.
    assert set(profiles()) == set(EXPECTED) - {
        "cancel.me@example.com",
        "fahad@example.kw",
        "maria.rossi@example.it",  # the checkouts come after the orders
    }

    del saleor.fail[page1]
    asked = len(saleor.requests)
    summary = backfill(shop, page_size=PAGE_SIZE)
    assert saleor.afters(asked)[0] == ("orders", page1)  # no customer and no page 1 again
    assert {r: (c.fetched, c.new) for r, c in summary.resources.items()} == {
        "customers": (0, 0),
        "orders": (2, 2),
        "checkouts": (3, 3),
    }
    assert profiles() == EXPECTED  # as if it had never stopped
    assert Delivery.objects.count() == 11
    assert BackfillCursor.objects.get(tenant=shop, resource="orders").fetched == 4


def test_a_newer_live_state_is_not_overwritten_by_an_older_backfilled_one(saleor, shop):
    # No recorded delivery is newer than the backfill (it ran after delivery 114), so the page
    # shows order #27 as it was before the refund: the real order of delivery 085.
    page = saleor.page("orders", 1)
    before_refund = json.loads(recordings.delivery(85).body)["order"]
    assert before_refund["updatedAt"] < page["data"]["orders"]["edges"][1]["node"]["updatedAt"]
    page["data"]["orders"]["edges"][1]["node"] = before_refund
    saleor.replace_page("orders", 1, page)

    replay(shop, 89)  # live: order #27 fully refunded
    summary = backfill(shop, page_size=PAGE_SIZE)

    assert summary.resources["orders"].new == 4  # stored, and applied, but it lost
    order = OrderRecord.objects.get(number="27")
    assert (order.refunded_minor, order.charged_minor) == (4000, 0)
    assert profiles() == EXPECTED


def test_older_live_deliveries_after_the_backfill_do_not_undo_it(saleor, shop):
    backfill(shop, page_size=PAGE_SIZE)
    replay(shop, 82, 83, 84, 85, 86)  # order #27 placed, paid, confirmed: before its refund
    assert OrderRecord.objects.get(number="27").refunded_minor == 4000
    assert profiles() == EXPECTED


def test_customers_deleted_before_the_backfill_stay_deleted(saleor, shop):
    replay(shop, 120, 121)  # staff deleted Piotr and Jan after the pages were recorded
    backfill(shop, page_size=PAGE_SIZE)
    expected = dict(EXPECTED)
    del expected["piotr.nowak@example.pl"], expected["jan.kowalski@example.pl"]
    assert profiles() == expected


def test_a_deleted_account_gets_no_guest_profile_back_from_its_old_orders(saleor, shop):
    """Order #28 was placed by self.delete@example.com, who then deleted the account (delivery
    109, not in the recording): Saleor keeps the order as a guest order with the e-mail. Its
    backfilled copy is stamped with the order's own time, from before the deletion, so it stays
    anonymous in the store's figures instead of bringing a profile back."""
    erased = recordings.delivery(125).body.decode()  # the same event for another account
    erased = erased.replace("VXNlcjo1Mw==", "VXNlcjo0OQ==")  # self.delete's id (delivery 108)
    erased = erased.replace("erase.me.too@example.com", "self.delete@example.com")
    erased = erased.replace("2026-11-23T13:09:06.824777", "2026-11-23T13:07:30.000000")
    accept(shop, event="account_deleted", body=erased.encode(), headers={})
    drain()

    backfill(shop, page_size=PAGE_SIZE)

    expected = dict(EXPECTED)
    del expected["self.delete@example.com"]
    assert profiles() == expected
    order = OrderRecord.objects.get(number="28")
    assert (order.email, order.profile_id, order.total_gross_base_minor) == ("", None, 1550)


def test_graphql_errors_stop_the_run_and_store_nothing(saleor, shop, sleeps):
    message = "To access this path, you need one of the following permissions: MANAGE_USERS"
    saleor.graphql_errors = [{"message": message, "extensions": {"exception": {}}}]
    with pytest.raises(BackfillError, match=f"Saleor answered with errors: {message}"):
        backfill(shop)
    assert (len(saleor.requests), sleeps) == (1, [])  # asking again would not help
    assert (Delivery.objects.count(), Profile.objects.count()) == (0, 0)
    cursor = BackfillCursor.objects.get(tenant=shop, resource="customers")
    assert (cursor.after, cursor.fetched, cursor.done) == ("", 0, False)


def test_a_rejected_token_stops_the_run_and_stores_nothing(saleor, shop, sleeps):
    shop.app_token_encrypted = crypto.encrypt("revoked-token")
    shop.save()
    with pytest.raises(BackfillError, match=r"Saleor refused the app token \(401\)") as info:
        backfill(shop)
    assert "revoked-token" not in str(info.value)
    assert (saleor.authorizations, sleeps) == (["Bearer revoked-token"], [])
    assert (Delivery.objects.count(), Profile.objects.count()) == (0, 0)


def test_orders_without_an_fx_rate_are_kept_with_the_reason(saleor):
    shop = register_tenant(api_url=saleor.api_url, app_token=TOKEN, base_currency="EUR")
    summary = backfill(shop, page_size=PAGE_SIZE)  # no rates loaded: only EUR converts
    (reason,) = summary.failures
    assert (reason.code, reason.count) == ("missing_fx_rate", 3)
    assert reason.example.startswith("no FX rate from KWD to EUR valid at 2026-11-23T13:07:13")
    assert summary.applied.failed == 3

    from saleor_crm_plugin.money.services import load_rates

    load_rates(DATA / "rates.csv")
    reprocess(shop)
    drain()
    assert profiles() == EXPECTED


def test_one_backfill_per_saleor_at_a_time(saleor, shop):
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as other:
        other.execute("SELECT pg_advisory_lock(7322, %s)", [shop.pk])
        with pytest.raises(BackfillError, match="already running"):
            backfill(shop)
        # The other backfill ends. (Unlocking, not just closing: a closed session's locks go
        # when its server process exits, which may be a moment later on a busy machine.)
        other.execute("SELECT pg_advisory_unlock(7322, %s)", [shop.pk])
    assert saleor.requests == []
    backfill(shop, page_size=PAGE_SIZE)
    assert profiles() == EXPECTED


def test_the_plugin_backfill_outside_saleor_says_where_to_run_it():
    # The plugin's tenant is backfilled from Saleor's tables; this database has none.
    with pytest.raises(
        BackfillError, match="Saleor's tables .*order_order.* with Saleor's settings"
    ):
        backfill(plugin_tenant("EUR"))
    assert Delivery.objects.count() == 0


def table_lines(out: str) -> list[str]:
    return [" ".join(line.replace("│", " ").split()) for line in out.splitlines()]


def test_the_command_shows_progress_and_a_summary(saleor, shop, capsys):
    assert main(["backfill", "--page-size", "2"]) == 0
    out = capsys.readouterr().out
    lines = table_lines(out)
    assert any(line.startswith("backfilling orders") for line in lines)
    assert "customers 4 4 24 done" in lines
    assert "orders 4 4 28 done" in lines
    assert "checkouts 3 3 3 done" in lines
    assert "applied 11 deliveries (0 ignored, 0 failed); 9 customer profiles" in lines
    assert TOKEN not in out

    assert main(["backfill"]) == 0  # one Saleor installed: no --api-url needed
    again = table_lines(capsys.readouterr().out)
    assert "customers 0 0 - done earlier" in again
    assert "nothing left to import; --restart pages through everything again" in again


def test_the_command_lists_failed_deliveries_with_their_reason(saleor, capsys):
    register_tenant(api_url=saleor.api_url, app_token=TOKEN, base_currency="EUR")
    assert main(["backfill", "--api-url", saleor.api_url, "--page-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 failed" in out and "missing_fx_rate" in out and "--reprocess-failed" in out


def test_the_command_says_how_to_continue_after_an_error(saleor, shop, sleeps, capsys):
    saleor.fail[None] = 503
    assert main(["backfill"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "Saleor answered 503 after 5 attempts (run again to resume where it stopped)" in out


def test_the_command_refuses_pages_saleor_would_refuse(capsys):
    with pytest.raises(SystemExit):
        main(["backfill", "--page-size", "101"])
    assert "must be between 1 and 100" in capsys.readouterr().err

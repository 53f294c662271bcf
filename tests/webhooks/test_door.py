"""The async door of ``saleor-crm serve`` (webhooks/door.py), through the real server: Saleor's
recorded deliveries, signed as Saleor signed them, get the answers the Django view gives."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from saleor_crm_plugin.inbox.group_commit import GroupCommitter, Unstorable
from saleor_crm_plugin.models import Delivery
from tests import recordings
from tests.reliability.harness import TcpProxy, database_url, server

pytestmark = pytest.mark.django_db(transaction=True)

ORDER = 10  # 010-order_created


def recorded(seq: int = ORDER) -> tuple[bytes, dict[str, str]]:
    item = recordings.delivery(seq)
    return item.body, recordings.request_headers(item)


def post(url: str, body: object, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=30)


def test_genuine_delivery_is_stored_applied_and_a_second_copy_flagged(tmp_path, tenant, rates):
    body, headers = recorded()
    with server(database_url(), tmp_path / "serve.log", dispatch="eager") as url:
        first = post(url, body, headers)
        second = post(url, body, headers)
    assert (first.status_code, first.json()) == (200, {"success": True, "duplicate": False})
    assert (second.status_code, second.json()) == (200, {"success": True, "duplicate": True})
    (row,) = Delivery.objects.all()
    assert row.state == "processed"  # applied (eager dispatch: before the answer)
    assert row.event == "order_created"
    assert bytes(row.body) == body
    # The same headers the Django view keeps (its request.headers spelling).
    assert row.headers["Saleor-Event"] == headers["Saleor-Event"]
    assert row.headers["Content-Type"] == "application/json"


def test_refusals_have_the_django_views_codes_and_store_nothing(tmp_path, tenant, settings):
    body, headers = recorded()
    tampered = body.replace(b'"amount": 103.81', b'"amount": 1.81', 1)
    assert tampered != body
    no_event = {k: v for k, v in headers.items() if k.lower() != "saleor-event"}
    stranger = {**headers, "Saleor-Api-Url": "http://unknown.example/graphql/"}
    cap = 2 * 1024 * 1024  # CRM_MAX_WEBHOOK_BODY_BYTES's default
    huge = b"x" * (cap + 1)

    def chunked():  # no Content-Length: the cap holds while reading
        for _ in range(3):
            yield b"y" * (cap // 2)

    with server(database_url(), tmp_path / "serve.log", dispatch="eager") as url:
        answers = {
            "tampered": post(url, tampered, headers),
            "no signature": post(url, body, {**headers, "Saleor-Signature": ""}),
            "missing header": post(url, body, no_event),
            "unknown saleor": post(url, body, stranger),
            "oversized": post(url, huge, headers),
            "oversized, chunked": post(url, chunked(), headers),
        }
        manifest = requests.get(url.replace("/api/webhooks", "/api/manifest"), timeout=10)
        get_webhooks = requests.get(url, timeout=10)
    codes = {name: (r.status_code, r.json()["error"]["code"]) for name, r in answers.items()}
    assert codes == {
        "tampered": (401, "INVALID_SIGNATURE"),
        "no signature": (401, "INVALID_SIGNATURE"),
        "missing header": (400, "MISSING_HEADERS"),
        "unknown saleor": (401, "UNKNOWN_SALEOR"),
        "oversized": (413, "BODY_TOO_LARGE"),
        "oversized, chunked": (413, "BODY_TOO_LARGE"),
    }
    assert Delivery.objects.count() == 0
    # Everything else is still Django's.
    assert manifest.status_code == 200 and "webhooks" in manifest.json()
    assert get_webhooks.status_code == 405
    with connection.cursor() as cur:
        cur.execute(
            "SELECT labels, value FROM crm_ops_counter "
            "WHERE name = 'crm_webhook_deliveries_rejected_total'"
        )
        counted = dict(cur.fetchall())
    assert counted == {
        'reason="signature",source="saleor"': 2,
        'reason="malformed",source="saleor"': 1,
        'reason="unknown_tenant",source="saleor"': 1,
        'reason="oversized",source="saleor"': 2,
    }


def test_database_down_answers_503_and_nothing_is_lost_after(tmp_path, tenant, rates):
    items = recordings.deliveries()[:8]

    def send(item: recordings.Recorded) -> requests.Response:
        return post(url, item.body, recordings.request_headers(item))

    def send_as_saleor(item: recordings.Recorded) -> requests.Response:
        """Saleor retries a 503 (for about five minutes). Right after the database is back, a
        worker that must still load the tenant waits on Django's pool, which backs off for a
        second or so after an outage, and may answer 503 once: the delivery is retried, never
        refused."""
        response = send(item)
        for _ in range(10):
            if response.status_code != 503:
                break
            time.sleep(0.5)
            response = send(item)
        return response

    proxy = TcpProxy(int(connection.settings_dict["PORT"] or 5432))
    try:
        with server(
            database_url(proxy.port),
            tmp_path / "serve.log",
            dispatch="external",
            env={"DATABASE_POOL_TIMEOUT": "1"},
        ) as url:
            before = post(url, items[0].body, recordings.request_headers(items[0]))
            proxy.cut()
            during = [post(url, i.body, recordings.request_headers(i)) for i in items[1:4]]
            proxy.restore()
            with ThreadPoolExecutor(max_workers=7) as senders:  # several connections open
                after = list(senders.map(send_as_saleor, items[1:]))
            # Cut and back while the door is idle (PostgreSQL restarted): its open connections
            # are all broken, and the next deliveries are still stored, not refused.
            proxy.cut()
            proxy.restore()
            with ThreadPoolExecutor(max_workers=8) as senders:
                again = list(senders.map(send, items))
    finally:
        proxy.close()
    assert before.status_code == 200
    assert [(r.status_code, r.json()["error"]["code"]) for r in during] == [
        (503, "UNAVAILABLE")
    ] * 3
    assert [r.status_code for r in after] == [200] * 7
    assert [r.json()["duplicate"] for r in after] == [False] * 7
    assert [(r.status_code, r.json()["duplicate"]) for r in again] == [(200, True)] * 8
    stored = Counter(
        (d.event, bytes(d.body)) for d in Delivery.objects.all()
    )  # every delivery once
    assert stored == Counter((i.event, i.body) for i in items)


def test_concurrent_deliveries_are_group_committed_and_stored_exactly_once(tmp_path, tenant):
    items = recordings.deliveries()
    copies = [item for item in items for _ in range(3)]  # Saleor retries: each arrives 3 times
    local = threading.local()

    def send(item: recordings.Recorded) -> tuple[int, bool]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        r = local.session.post(
            url, data=item.body, headers=recordings.request_headers(item), timeout=30
        )
        return r.status_code, r.json().get("duplicate", False)

    with server(database_url(), tmp_path / "serve.log", dispatch="external") as url:
        with ThreadPoolExecutor(max_workers=32) as senders:
            answers = list(senders.map(send, copies))
    assert Counter(status for status, _ in answers) == {200: len(copies)}
    unique = {(item.event, item.body) for item in items}
    assert sum(1 for _, duplicate in answers if not duplicate) == len(unique)
    rows = Counter((d.event, bytes(d.body)) for d in Delivery.objects.all())
    assert rows == Counter(unique)
    with connection.cursor() as cur:  # rows stored by one commit share its transaction id
        cur.execute("SELECT count(DISTINCT xmin::text) FROM crm_inbox_delivery")
        (commits,) = cur.fetchone()
    assert commits < len(unique)


def test_a_delivery_that_can_never_be_stored_is_refused_alone(tenant):
    """A NUL cannot be stored in a text column: that delivery is refused (400 at the door),
    and the others committed with it are stored all the same."""
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    drained: list[set[int]] = []

    async def remember(tenant_ids: set[int]) -> None:
        drained.append(tenant_ids)

    async def run() -> list[object]:
        committer = GroupCommitter(params, on_commit=remember)
        try:
            stores = [
                committer.store(tenant.pk, event, b'{"n": %d}' % n, {"Saleor-Event": "x"})
                for n, event in enumerate(["order_created", "bad\x00event", "order_updated"])
            ]
            return await asyncio.gather(*stores, return_exceptions=True)
        finally:
            await committer.close()

    good, bad, other = asyncio.run(run())
    assert isinstance(bad, Unstorable)
    assert not good.duplicate and not other.duplicate  # type: ignore[union-attr]
    assert sorted(Delivery.objects.values_list("event", flat=True)) == [
        "order_created",
        "order_updated",
    ]
    assert drained and all(ids == {tenant.pk} for ids in drained)


def test_one_commit_answers_new_retried_and_repeated_deliveries(tenant):
    """A batch holding a new delivery, a retry of one stored earlier (by the Django view's
    path) and the same new delivery twice: one row each, and every copy answered with the
    stored row's id and whether it was a duplicate."""
    from saleor_crm_plugin.inbox.services import accept

    earlier = accept(tenant, event="ORDER_UPDATED", body=b'{"n": 1}', headers={})
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)

    async def noop(tenant_ids: set[int]) -> None:
        return None

    async def run() -> list[object]:
        committer = GroupCommitter(params, on_commit=noop, connections=1)
        try:
            bodies = [b'{"n": 2}', b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
            return await asyncio.gather(
                *(committer.store(tenant.pk, "ORDER_UPDATED", b, {}) for b in bodies)
            )
        finally:
            await committer.close()

    two, one, two_again, three = asyncio.run(run())
    rows = dict(Delivery.objects.values_list("body", "id"))
    assert {bytes(b) for b in rows} == {b'{"n": 1}', b'{"n": 2}', b'{"n": 3}'}
    by_body = {bytes(b): i for b, i in rows.items()}
    assert (one.delivery_id, one.duplicate) == (earlier.delivery_id, True)
    assert (two.delivery_id, two.duplicate) == (by_body[b'{"n": 2}'], False)
    assert (two_again.delivery_id, two_again.duplicate) == (by_body[b'{"n": 2}'], True)
    assert (three.delivery_id, three.duplicate) == (by_body[b'{"n": 3}'], False)


def test_two_workers_storing_the_same_deliveries_in_opposite_orders_do_not_deadlock(tenant):
    """Saleor retries while the first copies are still being stored, and two workers' batches
    hold the same two deliveries in opposite orders. Each row takes 0.2 s to insert here (a
    trigger), so without one order for both the two statements would each hold the row the
    other needs next: PostgreSQL would cancel one with a deadlock and Saleor get a 503."""
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)

    async def noop(tenant_ids: set[int]) -> None:
        return None

    async def worker(bodies: list[bytes]) -> list[object]:
        committer = GroupCommitter(params, on_commit=noop)
        try:
            return await asyncio.gather(
                *(committer.store(tenant.pk, "ORDER_UPDATED", b, {}) for b in bodies)
            )
        finally:
            await committer.close()

    async def run() -> list[list[object]]:
        a, b = b'{"n": "a"}', b'{"n": "b"}'
        return await asyncio.gather(worker([a, b]), worker([b, a]))

    with connection.cursor() as cur:
        cur.execute(
            "CREATE FUNCTION crm_test_slow() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$; "
            "CREATE TRIGGER crm_test_slow BEFORE INSERT ON crm_inbox_delivery "
            "FOR EACH ROW EXECUTE FUNCTION crm_test_slow()"
        )
    try:
        first, second = asyncio.run(run())
    finally:
        with connection.cursor() as cur:
            cur.execute(
                "DROP TRIGGER crm_test_slow ON crm_inbox_delivery; DROP FUNCTION crm_test_slow()"
            )
    answers = [*first, *second]
    assert Delivery.objects.count() == 2
    assert sorted(a.duplicate for a in answers) == [False, False, True, True]  # type: ignore[attr-defined]


def test_an_uninstalled_saleor_is_refused_once_its_remembered_tenant_expires(tmp_path, tenant):
    """The door remembers a tenant for a few seconds and then revalidates it on its own
    connection: the revalidation must notice an uninstall, not keep the tenant alive."""
    from saleor_crm_plugin.tenants.services import TENANT_CACHE_SECONDS

    first, second = recordings.deliveries()[:2]
    with server(database_url(), tmp_path / "serve.log", dispatch="external") as url:
        installed = post(url, first.body, recordings.request_headers(first))
        tenant.is_active = False
        tenant.save(update_fields=["is_active"])
        time.sleep(TENANT_CACHE_SECONDS + 0.5)
        uninstalled = post(url, second.body, recordings.request_headers(second))
    assert installed.status_code == 200
    assert (uninstalled.status_code, uninstalled.json()["error"]["code"]) == (
        401,
        "UNKNOWN_SALEOR",
    )
    assert Delivery.objects.count() == 1

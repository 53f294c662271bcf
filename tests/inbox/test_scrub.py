"""A customer deletion applied by the inbox empties the stored bodies naming them after the
batch commits, in a scrub of its own, so the store's other deliveries never wait behind the
search of every stored body. The recording deletes Piotr and Jan after they shopped."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection

from saleor_crm_plugin.inbox import dispatch
from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.inbox.tasks import scrub_deliveries, sweep_inbox
from saleor_crm_plugin.models import Delivery, PendingScrub, Profile
from saleor_crm_plugin.profiles.traces import scrub_pending
from tests import recordings

DELETED = ("piotr.nowak@example.pl", "jan.kowalski@example.pl")


def bodies_naming(*emails: str) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM crm_inbox_delivery WHERE lower(encode(body, 'escape')) "
            "LIKE ANY(%s)",
            [[f"%{e}%" for e in emails]],
        )
        return int(cur.fetchone()[0])


def store_everything(tenant) -> None:
    """Apply what came before the first deletion (their bodies stay stored), then store the
    rest, pending: a batch empties the bodies of its own deliveries naming a deleted customer
    itself; the scrub is for bodies applied earlier."""
    recorded = recordings.deliveries()
    first = next(i for i, d in enumerate(recorded) if d.event.endswith("_deleted"))
    for item in recorded[:first]:
        accept(tenant, event=item.event, body=item.body, headers=dict(item.headers))
    drain()
    for item in recorded[first:]:
        accept(tenant, event=item.event, body=item.body, headers=dict(item.headers))


@pytest.mark.django_db
def test_the_bodies_go_after_the_deletion_commits_not_inside_its_batch(
    tenant, rates, django_capture_on_commit_callbacks
):
    store_everything(tenant)
    assert bodies_naming(*DELETED)
    with django_capture_on_commit_callbacks() as after_commit:
        drain()
    # The batch applied the deletion (profiles gone) and only queued the search of the bodies.
    assert not Profile.objects.filter(email__in=DELETED).exists()
    assert bodies_naming(*DELETED)
    assert PendingScrub.objects.filter(tenant=tenant).exists()

    for callback in after_commit:  # eager dispatch: the scrub runs once committed
        callback()

    assert bodies_naming(*DELETED) == 0
    assert not PendingScrub.objects.exists()
    emptied = Delivery.objects.filter(body=b"")
    assert emptied.exists() and all(d.body_hash for d in emptied)
    assert Delivery.objects.exclude(body=b"").exists()  # only theirs
    assert scrub_pending() == 0  # a second run finds nothing to do


@pytest.mark.django_db
def test_with_a_broker_the_scrub_is_a_task_of_its_own(
    tenant, rates, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CRM_INBOX_DISPATCH = "celery"
    published = []

    class Publisher:
        def submit(self, fn, *args):
            published.append((fn, args))

    monkeypatch.setattr(dispatch, "_publisher", Publisher())
    store_everything(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        drain(tenant_id=tenant.pk)

    assert (dispatch._publish_scrub, (tenant.pk,)) in published
    assert bodies_naming(*DELETED)  # nothing scrubbed in the drain
    assert scrub_deliveries(tenant_id=tenant.pk) >= 1  # what the worker runs
    assert bodies_naming(*DELETED) == 0
    assert scrub_deliveries(tenant_id=tenant.pk) == 0


@pytest.mark.django_db
def test_the_sweep_runs_a_scrub_whose_task_was_lost(
    tenant, rates, django_capture_on_commit_callbacks
):
    store_everything(tenant)
    with django_capture_on_commit_callbacks():  # the callbacks never run: a lost message
        drain()
    assert bodies_naming(*DELETED)

    sweep_inbox()

    assert bodies_naming(*DELETED) == 0
    assert not PendingScrub.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_body_another_worker_holds_is_scrubbed_once_it_lets_go(tenant, rates, settings):
    """The scrub runs outside the store's lock, so it waits for a row another transaction
    holds (an applier's claimed batch) instead of skipping it and leaving the body."""
    settings.CRM_INBOX_DISPATCH = "external"  # the scrub stays queued until we run it
    store_everything(tenant)
    drain()
    assert PendingScrub.objects.exists()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT min(id) FROM crm_inbox_delivery WHERE position(%s::bytea in body) > 0",
            [DELETED[0].encode()],
        )
        held = cur.fetchone()[0]
    assert held is not None
    db = connection.settings_dict
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": db["NAME"]}
    other = psycopg.connect(**params, autocommit=False)
    watcher = psycopg.connect(**params, autocommit=True)
    other.execute("SELECT 1 FROM crm_inbox_delivery WHERE id = %s FOR UPDATE", [held])
    done: list[int] = []

    def run() -> None:
        try:
            done.append(scrub_pending())
        finally:
            connection.close()

    scrubber = threading.Thread(target=run)
    scrubber.start()
    try:
        deadline = time.monotonic() + 30
        while not done and not _waiting_on_a_lock(watcher) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not done, "the scrub finished without waiting for the held row"
        assert _waiting_on_a_lock(watcher)
    finally:
        other.commit()  # the other worker lets go
        other.close()
        watcher.close()
    scrubber.join(30)

    assert done == [1]
    assert bytes(Delivery.objects.get(pk=held).body) == b""
    assert bodies_naming(*DELETED) == 0


def _waiting_on_a_lock(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE '%%crm_inbox_delivery%%'"
    ).fetchone()
    return bool(row and row[0])

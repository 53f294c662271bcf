"""A backlog drained by several applier threads of one process gives what one thread gives.

``drain`` starts ``CRM_INBOX_APPLIER_THREADS`` - 1 more threads once a batch comes back full;
each claims its own batches on its own connection and the store's batches take turns on its
lock. The recorded store (42 deliveries) is stored without being applied, then drained in
batches of 3 so both threads get many batches.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError

from saleor_crm_plugin.inbox import services
from saleor_crm_plugin.inbox.services import accept_many, drain
from saleor_crm_plugin.models import Delivery
from tests import recordings
from tests.inbox.test_disorder import snapshot, wipe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backlog(settings, tenant, rates):
    """The recorded store stored, nothing applied; batches of 3."""
    settings.CRM_INBOX_DISPATCH = "external"
    settings.CRM_INBOX_BATCH_SIZE = 3

    def store() -> int:
        return accept_many(tenant, [(d.event, d.body) for d in recordings.deliveries()])

    return store


def applying_threads(monkeypatch) -> list[str]:
    """Names of the threads that applied a non-empty batch, in order."""
    names: list[str] = []
    real = services.process_batch

    def spied(limit: int, tenant_id: int | None = None, **kwargs) -> services.DrainResult:
        result = real(limit, tenant_id, **kwargs)
        if result.claimed:
            names.append(threading.current_thread().name)
        return result

    monkeypatch.setattr(services, "process_batch", spied)
    return names


def test_two_applier_threads_give_the_store_one_thread_gives(backlog, settings, monkeypatch):
    settings.CRM_INBOX_APPLIER_THREADS = 1
    stored = backlog()
    assert stored == len(recordings.deliveries())
    one = drain()
    assert one.claimed == stored
    expected = snapshot()
    assert sum(expected["points"].values()) > 0
    wipe()

    settings.CRM_INBOX_APPLIER_THREADS = 2
    assert backlog() == stored
    names = applying_threads(monkeypatch)
    two = drain()

    assert (two.processed, two.ignored, two.failed) == (one.processed, one.ignored, one.failed)
    assert snapshot() == expected
    assert not Delivery.objects.filter(state="pending").exists()
    # Both threads applied batches (the second starts once the first claim comes back full).
    assert names[0] == threading.current_thread().name
    assert "crm-applier" in names


def test_a_failing_applier_thread_loses_nothing(backlog, settings, monkeypatch):
    """The extra thread's batch fails after its claim (the database went away mid-batch):
    its deliveries are pending again, the error reaches the caller (a Celery task retries
    on it), and the next drain applies them once."""
    settings.CRM_INBOX_APPLIER_THREADS = 1
    stored = backlog()
    drain()
    expected = snapshot()
    wipe()

    settings.CRM_INBOX_APPLIER_THREADS = 2
    backlog()
    real = services._apply_for_tenant
    failed: list[int] = []

    def breaks_once(tenant, batch, result):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "crm-applier" and not failed:
            failed.extend(batch.deliveries)
            raise OperationalError("server closed the connection unexpectedly")
        return real(tenant, batch, result)

    monkeypatch.setattr(services, "_apply_for_tenant", breaks_once)
    with pytest.raises(OperationalError):
        drain()
    assert failed
    # Claimed and marked processed inside the failed batch's transaction, which rolled back:
    # pending again, or claimed since by the caller's thread, which drains on to the end.
    assert set(Delivery.objects.filter(pk__in=failed).values_list("state", flat=True)) <= {
        "pending",
        "processed",
    }

    drain()
    assert not Delivery.objects.filter(state="pending").exists()
    assert Delivery.objects.count() == stored
    # Every delivery applied exactly once: one marked processed but never applied would be
    # missing from the profiles, one applied twice would count twice.
    assert snapshot() == expected


def test_a_batch_is_applied_without_jit_compilation(backlog, monkeypatch):
    """Its statements are short; their estimates grow with the ledger past the JIT thresholds,
    where compiling took 50 times the work. Only the batch's transaction is affected."""
    from django.db import connection

    seen: list[str] = []
    real = services._apply_for_tenant

    def spied(*args, **kwargs) -> None:
        with connection.cursor() as cur:
            cur.execute("SHOW jit")
            seen.append(cur.fetchone()[0])
        real(*args, **kwargs)

    monkeypatch.setattr(services, "_apply_for_tenant", spied)
    backlog()
    with connection.cursor() as cur:
        cur.execute("SHOW jit")
        (before,) = cur.fetchone()
    drain()
    assert seen and set(seen) == {"off"}
    with connection.cursor() as cur:
        cur.execute("SHOW jit")
        assert cur.fetchone()[0] == before

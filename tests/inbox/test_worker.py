"""With a broker, deliveries are applied by a real Celery worker; without one, by the sweep."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools
import pytest
import redis
import requests
from django.db import connection

from saleor_crm_plugin.inbox import dispatch
from saleor_crm_plugin.inbox.tasks import sweep_inbox
from saleor_crm_plugin.models import Delivery, Profile
from saleor_crm_plugin.project.celery import app as celery_app
from tests import recordings

pytestmark = pytest.mark.django_db(transaction=True)

# A Redis database of its own (flushed by these tests); runs side by side set their own.
BROKER = f"redis://127.0.0.1:6379/{int(os.environ.get('CRM_TEST_WORKER_BROKER_DB', '14'))}"


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point this process's Celery app at a broker (tests otherwise run tasks eagerly)."""
    # The app reads Django settings under the CELERY_ namespace, so override those keys.
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.update(CELERY_BROKER_URL=url, CELERY_TASK_ALWAYS_EAGER=False)
    reset_connections()
    try:
        yield
    finally:
        celery_app.conf.update(CELERY_BROKER_URL=saved[0], CELERY_TASK_ALWAYS_EAGER=saved[1])
        reset_connections()


def reset_connections() -> None:
    """Forget pooled broker connections so the next publish uses the new broker URL."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(settings) -> Iterator[str]:
    settings.CRM_INBOX_DISPATCH = "celery"
    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 (scripts/services starts it)")
    client.flushdb()
    with broker_at(BROKER):
        yield BROKER
    client.flushdb()


@pytest.fixture
def worker(broker: str, tmp_path) -> Iterator[subprocess.Popen[bytes]]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": broker}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "saleor_crm_plugin.cli",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "info",
        ],
        env=env,
        # A file, not a pipe: a full pipe would block the worker's logging and stall it.
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    process.log_path = tmp_path / "worker.log"  # type: ignore[attr-defined]
    yield process
    stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown first; a worker that lingers past it is killed (the log is on disk)."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_until_applied(count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = Delivery.objects.filter(state="pending").count()
        if Delivery.objects.count() == count and pending == 0:
            return
        time.sleep(0.3)
    raise AssertionError(f"{pending} deliveries still pending after {timeout}s")


def post(live_server, item: recordings.Recorded, timeout: float = 10) -> requests.Response:
    return requests.post(
        f"{live_server.url}/api/webhooks",
        data=item.body,
        headers=recordings.request_headers(item),
        timeout=timeout,
    )


def test_a_real_worker_applies_what_the_door_accepted(live_server, tenant, rates, worker):
    responses = [post(live_server, d) for d in recordings.deliveries()]
    assert {r.status_code for r in responses} == {200}
    wait_until_applied(133)
    anna = Profile.objects.get(email="anna.mueller@example.de")
    assert (anna.orders_count, anna.spent_gross_minor, anna.refunded_minor) == (2, 19660, 551)
    assert Profile.objects.count() == 8
    assert worker.poll() is None, "the worker died"
    # The work was done by the worker process, not eagerly inside the web request.
    stop(worker)
    log = worker.log_path.read_text()
    assert "Task saleor_crm.inbox.drain" in log and "succeeded" in log


def test_broker_down_still_accepts_and_the_sweep_applies_later(
    live_server, tenant, rates, settings
):
    settings.CRM_INBOX_DISPATCH = "celery"
    with broker_at("redis://127.0.0.1:1/0"):  # nothing listens there
        # Saleor gives up reading after 18 s; a door that waited on the broker would time out.
        response = post(live_server, recordings.delivery(10), timeout=5)
        dispatch._publisher.submit(lambda: None).result(timeout=60)  # the failed publish is done
    assert response.status_code == 200
    assert Delivery.objects.get().state == "pending"
    assert sweep_inbox() == 1
    assert Delivery.objects.get().state == "processed"
    assert Profile.objects.get(email="anna.mueller@example.de").orders_count == 1


def test_the_sweep_runs_on_the_worker_beat_schedule():
    """Without it, a delivery accepted while the broker was down would wait forever."""
    schedule = celery_app.conf.beat_schedule
    assert any(entry["task"] == "saleor_crm.inbox.sweep" for entry in schedule.values())
    assert sweep_inbox.name == "saleor_crm.inbox.sweep"


def test_the_sweep_joins_a_host_schedule_without_replacing_its_entries(settings):
    """Inside Saleor, our periodic tasks are added to Saleor's own beat schedule."""
    from saleor_crm_plugin.apps import register_periodic_tasks

    settings.CELERY_BEAT_SCHEDULE = {
        "delete-empty-allocations": {"task": "saleor.x", "schedule": 1}
    }
    register_periodic_tasks()
    assert set(settings.CELERY_BEAT_SCHEDULE) == {
        "delete-empty-allocations",
        "crm-campaigns-release",
        "crm-inbox-sweep",
        "crm-feedback-requests",
        "crm-lifecycle-winback",
        "crm-loyalty-tiers",
        "crm-loyalty-expiry",
        "crm-loyalty-birthdays",
        "crm-loyalty-expiry-reminders",
        "crm-messaging-send-due",
        "crm-recovery",
        "crm-segments-recompute",
        "crm-privacy-retention",
        "crm-scaleout-partitions",
    }


def test_the_publisher_thread_queues_on_the_configured_celery_app_not_celerys_fallback():
    """Inside Saleor (whose app is current only in the thread that made it) another thread
    sees Celery's unconfigured fallback app (broker amqp://localhost); drains published from
    our publisher thread must still go through the configured app."""
    import threading

    from celery import Celery, _state, current_app

    seen = {}

    def in_another_thread() -> None:
        seen["celery's own choice"] = current_app._get_current_object()
        seen["ours"] = dispatch.celery_app()

    saved = _state.default_app
    fallback = Celery("default", fixups=[], set_as_current=False)  # as Celery makes it
    _state.set_default_app(fallback)
    try:
        thread = threading.Thread(target=in_another_thread)
        thread.start()
        thread.join()
    finally:
        _state.set_default_app(saved)
    assert seen["celery's own choice"] is fallback  # the situation inside Saleor
    assert seen["ours"] is celery_app

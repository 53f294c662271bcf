"""Spans around webhook handling, inbox batches and tasks, and the task counters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery import shared_task
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from saleor_crm_plugin.inbox.tasks import drain_inbox
from saleor_crm_plugin.ops.counters import read_counters
from tests import recordings

pytestmark = pytest.mark.django_db

_exporter = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The SDK an operator would configure, exporting to memory. The global provider can be
    set once per process; later tests record into it too, at no cost worth measuring."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        trace.set_tracer_provider(provider)
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def named(exporter: InMemorySpanExporter, name: str) -> list:
    return [s for s in exporter.get_finished_spans() if s.name == name]


@shared_task(name="saleor_crm.test.fails", bind=True, max_retries=1)
def fails(self, retry: bool) -> None:
    error = RuntimeError("kim.berg@example.se is not reachable")
    if retry:
        self.retry(exc=error, countdown=0)
    raise error


def test_webhook_spans_say_event_tenant_and_outcome_without_personal_data(client, tenant, spans):
    item = recordings.delivery(10)
    headers = recordings.request_headers(item)
    ok = client.post(
        "/api/webhooks", data=item.body, content_type="application/json", headers=headers
    )
    forged = client.post(
        "/api/webhooks", data=item.body + b" ", content_type="application/json", headers=headers
    )
    assert (ok.status_code, forged.status_code) == (200, 401)

    accepted, rejected = named(spans, "crm.webhook.accept")
    assert dict(accepted.attributes) == {
        "crm.source": "saleor",
        "crm.event": headers["Saleor-Event"].lower(),
        "crm.tenant_id": tenant.pk,
        "crm.outcome": "accepted",
    }
    assert rejected.attributes["crm.outcome"] == "rejected:signature"
    for span in (accepted, rejected):
        assert "@" not in repr(dict(span.attributes))


def test_drain_task_and_its_batch_are_spans(tenant, rates, spans):
    from saleor_crm_plugin.inbox.services import accept

    item = recordings.delivery(10)
    accept(tenant, event=item.event, body=item.body, headers={})
    assert drain_inbox.apply(kwargs={"tenant_id": tenant.pk}).get() == 1

    (task,) = named(spans, "celery.task saleor_crm.inbox.drain")
    assert task.attributes["crm.outcome"] == "success"
    batches = named(spans, "crm.inbox.batch")
    first = batches[0]
    assert first.parent is not None and first.parent.span_id == task.context.span_id
    assert (first.attributes["crm.batch_size"], first.attributes["crm.processed"]) == (1, 1)
    assert list(first.attributes["crm.tenant_ids"]) == [tenant.pk]


def test_task_failures_and_retries_are_counted(spans):
    # Eager runs with ``throw=False`` handle the outcome as a worker does (signals, state).
    assert fails.apply(kwargs={"retry": False}, throw=False).state == "FAILURE"
    with pytest.raises(RuntimeError):  # the eager retry runs at once, and raises when it gives up
        fails.apply(kwargs={"retry": True}, throw=False)

    counts = {(name, labels): value for name, labels, value in read_counters()}
    task = 'task="saleor_crm.test.fails"'
    assert counts[("crm_task_retries_total", task)] == 1
    assert counts[("crm_task_failures_total", task)] == 1
    outcomes = [
        s.attributes["crm.outcome"] for s in named(spans, "celery.task saleor_crm.test.fails")
    ]
    assert {"failure", "retry"} <= set(outcomes)  # the eager re-run that raises: "unknown"
    (failed,) = [
        s
        for s in named(spans, "celery.task saleor_crm.test.fails")
        if s.attributes["crm.outcome"] == "failure"
    ]
    assert failed.attributes["exception.type"] == "RuntimeError"
    assert "@" not in repr([dict(s.attributes) for s in spans.get_finished_spans()])


def test_plugin_hooks_are_spans_too(rates, spans):
    from saleor_crm_plugin.plugin.door import record_hook
    from saleor_crm_plugin.tenants import store_settings
    from tests.plugin.saleor_shaped import order_from_recording

    eur = store_settings.parse([{"name": "base_currency", "value": "EUR"}])
    order = order_from_recording(recordings.delivery(10).body)
    assert record_hook("order_created", order, eur) is True
    assert record_hook("order_created", object(), eur) is False  # never raises into Saleor

    stored, broken = named(spans, "crm.webhook.accept")
    assert (stored.attributes["crm.source"], stored.attributes["crm.event"]) == (
        "plugin",
        "order_created",
    )
    assert stored.attributes["crm.outcome"] == "accepted"
    assert str(broken.attributes["crm.outcome"]).startswith("error:")
    assert "@" not in repr([dict(s.attributes) for s in (stored, broken)])

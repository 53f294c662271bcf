"""OpenTelemetry spans and Celery counters, through the API only, as Saleor does.

Without an SDK configured by the host (Saleor's ``opentelemetry-instrument`` or the
deployment's own), the API hands out non-recording spans and this costs next to nothing.
Attributes carry identifiers and outcomes, never personal data.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context, trace

from .counters import increment

tracer = trace.get_tracer("saleor_crm_plugin")

TASK_PREFIX = "saleor_crm."

# task id -> (span, context token): the span is opened in task_prerun and closed in
# task_postrun, which run in the same worker thread.
_task_spans: dict[str, tuple[Any, object]] = {}


def _ours(task: Any) -> bool:
    return str(getattr(task, "name", "") or "").startswith(TASK_PREFIX)


def _on_prerun(task_id: str = "", task: Any = None, **_: Any) -> None:
    if not _ours(task):
        return
    span = tracer.start_span(
        f"celery.task {task.name}",
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "celery.task_name": task.name,
            "celery.retries": int(getattr(task.request, "retries", 0) or 0),
        },
    )
    token = context.attach(trace.set_span_in_context(span))
    _task_spans[task_id] = (span, token)


def _on_postrun(task_id: str = "", task: Any = None, state: str | None = None, **_: Any) -> None:
    entry = _task_spans.pop(task_id, None)
    if entry is None:
        return
    span, token = entry
    span.set_attribute("crm.outcome", (state or "unknown").lower())
    if state == "FAILURE":
        span.set_status(trace.Status(trace.StatusCode.ERROR))
    try:
        context.detach(token)  # type: ignore[arg-type]
    finally:
        span.end()


def _on_failure(sender: Any = None, exception: BaseException | None = None, **_: Any) -> None:
    if not _ours(sender):
        return
    entry = _task_spans.get(str(getattr(sender.request, "id", "")))
    if entry is not None and exception is not None:
        # The exception's type only: its message may quote data.
        entry[0].set_attribute("exception.type", type(exception).__name__)
    increment("crm_task_failures_total", {"task": sender.name})


def _on_retry(sender: Any = None, **_: Any) -> None:
    if _ours(sender):
        increment("crm_task_retries_total", {"task": sender.name})


def install_celery_hooks() -> None:
    """Connect the signal handlers once; called from the app's ``ready``.

    Signals fire for every task of the process (inside Saleor, Saleor's too); only ours,
    named ``saleor_crm.*``, get a span and a count.
    """
    from celery import signals

    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="crm-ops-prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="crm-ops-postrun")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="crm-ops-failure")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="crm-ops-retry")

"""The Prometheus text exposition of the CRM, computed from the database at scrape time.

Counting rows that exist anyway (inbox deliveries, messages) instead of keeping in-process
counters means several web processes and workers report one consistent figure and a restart
resets nothing. What leaves no row (rejections, task failures) is in ``crm_ops_counter``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction

from ..inbox.queries import inbox_lag
from ..scaleout.replica import analytics_alias, replica_lag_seconds
from .counters import label_string, read_counters


@dataclass
class Family:
    name: str
    kind: str  # "counter" or "gauge"
    help: str
    samples: list[tuple[str, float]] = field(default_factory=list)  # (labels, value)


# Counters in crm_ops_counter: their HELP and TYPE, printed even before the first increment.
COUNTER_HELP = {
    "crm_webhook_deliveries_rejected_total": (
        "Webhook deliveries refused before they were stored, by source and reason."
    ),
    "crm_task_failures_total": "Celery task runs of the CRM that ended in an exception.",
    "crm_task_retries_total": "Celery task runs of the CRM that asked to be retried.",
}


logger = logging.getLogger(__name__)


def _replica_lag() -> list[tuple[str, float]]:
    """The analytics replica's lag, when reports read one; a replica that does not answer
    leaves the gauge out (alert on its absence) rather than failing the whole scrape."""
    if analytics_alias() == "default":
        return []
    try:
        lag = replica_lag_seconds()
    except DatabaseError as exc:
        logger.warning("analytics replica unreachable: %s", type(exc).__name__)
        return []
    return [] if lag is None else [("", round(lag, 3))]


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def collect() -> list[Family]:
    """Every metric family, read in one short transaction with a statement timeout so a slow
    scrape gives up instead of piling onto a busy database."""
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = '10s'")
        accepted = _rows(
            "SELECT source, event, count(*) FROM crm_inbox_delivery"
            " GROUP BY source, event ORDER BY source, event"
        )
        failed = _rows(
            "SELECT error_code, count(*) FROM crm_inbox_delivery WHERE state = 'failed'"
            " GROUP BY error_code ORDER BY error_code"
        )
        messages = _rows(
            "SELECT channel, kind, status, reason, count(*) FROM crm_message"
            " GROUP BY channel, kind, status, reason ORDER BY 1, 2, 3, 4"
        )
        lag = inbox_lag()
        stored = read_counters()

    families = [
        Family(
            "crm_webhook_deliveries_accepted_total",
            "counter",
            "Deliveries stored in the inbox (duplicates not counted), by source and event.",
            [(label_string({"source": s, "event": e}), n) for s, e, n in accepted],
        ),
        Family(
            "crm_inbox_pending", "gauge", "Deliveries waiting to be applied.", [("", lag.pending)]
        ),
        Family(
            "crm_inbox_oldest_pending_seconds",
            "gauge",
            "Age of the oldest delivery waiting to be applied (0 when none is).",
            [("", round(lag.oldest_pending_seconds, 3))],
        ),
        Family(
            "crm_inbox_failed",
            "gauge",
            "Deliveries set aside as failed (kept for reprocessing), by error code.",
            [(label_string({"code": code or "unknown"}), n) for code, n in failed],
        ),
        Family(
            "crm_messages",
            "gauge",
            "Messages by channel, kind, status (queued, sending, sent, skipped, failed), reason.",
            [
                (label_string({"channel": c, "kind": k, "status": s, "reason": r}), n)
                for c, k, s, r, n in messages
            ],
        ),
    ]
    by_name = {name: Family(name, "counter", text) for name, text in COUNTER_HELP.items()}
    for name, labels, value in stored:
        family = by_name.setdefault(name, Family(name, "counter", name.replace("_", " ")))
        family.samples.append((labels, value))
    families.extend(by_name[name] for name in sorted(by_name))
    lag_samples = _replica_lag()
    if lag_samples:
        families.append(
            Family(
                "crm_analytics_replica_lag_seconds",
                "gauge",
                "How far the replica the reports read trails the primary (time since the last "
                "replayed transaction).",
                lag_samples,
            )
        )
    return families


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(families: list[Family]) -> str:
    """Prometheus text format 0.0.4: HELP and TYPE once per family, one line per sample."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in family.samples:
            selector = f"{{{labels}}}" if labels else ""
            lines.append(f"{family.name}{selector} {_number(value)}")
    return "\n".join(lines) + "\n"

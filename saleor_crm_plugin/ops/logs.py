"""One JSON object per log line (``CRM_LOG_FORMAT=json``), for log pipelines that index fields.

Our log calls already keep personal data out of messages (exception types, ids and counts,
never an address); as a second line of defence any e-mail address that slips into a message
or field is masked here. Context travels as ``extra={"event": ..., "tenant_id": ...,
"outcome": ...}`` and becomes top-level fields.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

EMAIL = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+\.[A-Za-z]{2,}")

# Context fields copied from ``extra`` when present.
FIELDS = ("event", "tenant_id", "outcome", "source", "reason", "task", "delivery_id", "count")


def scrub(value: Any) -> Any:
    if isinstance(value, str):
        return EMAIL.sub("[email]", value)
    return value


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", <context fields>, "exc_type"}``.

    The traceback is left out on purpose: frames print local values, which may be a
    customer's data; the exception's type says what happened and the span says where.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for name in FIELDS:
            if name in record.__dict__:
                line[name] = scrub(record.__dict__[name])
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter_config(log_format: str) -> dict[str, Any]:
    """The ``formatters`` entry for Django's ``LOGGING``: JSON or the plain text line."""
    if log_format == "json":
        return {"()": "saleor_crm_plugin.ops.logs.JsonFormatter"}
    return {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}

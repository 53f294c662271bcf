"""``CRM_LOG_FORMAT=json``: one parseable object per line, with context, without addresses."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.ops.logs import formatter_config
from tests import recordings

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Our loggers configured the way the project's settings do with ``CRM_LOG_FORMAT=json``."""
    stream = io.StringIO()
    logger = logging.getLogger("saleor_crm_plugin")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"crm": formatter_config("json")},
            "handlers": {
                "memory": {"class": "logging.StreamHandler", "formatter": "crm", "stream": stream}
            },
            "loggers": {"saleor_crm_plugin": {"handlers": ["memory"], "level": "INFO"}},
        }
    )
    yield stream
    logger.handlers, logger.level, logger.propagate = saved


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_rejected_webhook_logs_reason_and_outcome(client, tenant, json_lines):
    item = recordings.delivery(10)
    forged = client.post(
        "/api/webhooks",
        data=item.body + b" ",
        content_type="application/json",
        headers=recordings.request_headers(item),
    )
    assert forged.status_code == 401
    (line,) = [x for x in lines(json_lines) if x["logger"] == "saleor_crm_plugin.webhooks.delivery"]
    assert line["level"] == "info"
    assert (line["source"], line["reason"], line["outcome"]) == ("saleor", "signature", "rejected")


def test_failed_batches_name_the_tenant_and_count(tenant, json_lines):
    accept(tenant, event="order_created", body=b'{"not": "an order"}', headers={})
    assert drain(tenant_id=tenant.pk).failed == 1
    (line,) = [x for x in lines(json_lines) if x.get("outcome") == "failed"]
    assert (line["tenant_id"], line["count"], line["level"]) == (tenant.pk, 1, "warning")


def test_addresses_are_masked_and_tracebacks_left_out(json_lines):
    log = logging.getLogger("saleor_crm_plugin.messaging.services")
    try:
        raise ValueError("kim.berg@example.se refused")
    except ValueError:
        log.exception("could not send to %s", "kim.berg@example.se", extra={"event": "send"})
    (line,) = lines(json_lines)
    assert line["message"] == "could not send to [email]"
    assert (line["event"], line["exc_type"]) == ("send", "ValueError")
    assert "example.se" not in json_lines.getvalue()
    assert "Traceback" not in json_lines.getvalue()

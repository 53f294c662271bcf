"""Personal data never reaches the logs or the arguments of the tasks we queue.

A demo store is replayed through the webhook door, as Saleor sends it; then the periodic tasks
run, e-mails go out (one address bounces), a customer is exported and another erased. Every log
record (our loggers and the root, at DEBUG) and every task's arguments are searched for the
customers' e-mail addresses and surnames.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from celery import signals

from saleor_crm_plugin.demo.replay import replay
from saleor_crm_plugin.demo.signing import DemoSigner
from saleor_crm_plugin.demo.store import generate_store, rates_csv
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.tenants.services import register_tenant

API = "http://demo-saleor.localhost/graphql/"
END = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
START = END - timedelta(days=120)
EMAIL = re.compile(rb"[\w.+-]+@example\.[a-z]+", re.IGNORECASE)


def markers(deliveries) -> set[str]:
    """The customers' addresses (as sent and lower-case) and surnames."""
    found: set[str] = set()
    for delivery in deliveries:
        found |= {m.decode() for m in EMAIL.findall(delivery.body)}
        payload = json.loads(delivery.body)
        for key in ("user", "order", "checkout"):
            node = payload.get(key) or {}
            for holder in (node, node.get("user") or {}, node.get("billingAddress") or {}):
                if len(holder.get("lastName") or "") >= 4:
                    found.add(holder["lastName"])
    return found | {m.lower() for m in found}


@pytest.mark.django_db(transaction=True)
def test_no_personal_data_in_logs_or_task_arguments(live_server, settings, smtp, caplog):
    from saleor_crm_plugin.money.services import load_rates
    from saleor_crm_plugin.privacy.erasure import erase_customer
    from saleor_crm_plugin.privacy.export import export_customer
    from saleor_crm_plugin.project.celery import app
    from saleor_crm_plugin.tasks import PERIODIC

    settings.CRM_WELCOME_WITHIN_HOURS = 24 * 200  # every account in the replay is greeted
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="saleor_crm_plugin")
    arguments: list[str] = []

    def remember(sender=None, body=None, args=None, kwargs=None, **_):
        arguments.append(repr((sender, body, args, kwargs)))

    signals.before_task_publish.connect(remember, weak=False)
    signals.task_prerun.connect(remember, weak=False)
    try:
        load_rates(io.StringIO(rates_csv(START, END)))
        signer = DemoSigner()
        register_tenant(api_url=API, app_token="t", base_currency="EUR", jwks=signer.jwks())
        deliveries = generate_store(customers=6, start=START, end=END, seed=5)
        secrets = markers(deliveries)
        result = replay(deliveries, f"{live_server.url}/api/webhooks", signer, API, progress=False)
        assert result.accepted == len(deliveries)
        profiles = list(Profile.objects.exclude(user_id=None).order_by("id"))
        smtp.reject.add(profiles[0].email)  # one hard bounce, with the address in SMTP's answer
        for entry in PERIODIC.values():
            app.tasks[entry["task"]].apply()
        export_customer(profiles[1])
        erase_customer(profiles[2], reason="ticket 1", actor="staff")
    finally:
        signals.before_task_publish.disconnect(remember)
        signals.task_prerun.disconnect(remember)

    assert len(secrets) > 10 and smtp.messages  # the run did handle people and send e-mail
    assert len(arguments) >= len(PERIODIC)
    logged = [  # all but the test's own SMTP server, which is the mailbox, not us
        r.getMessage() + (r.exc_text or "")
        for r in caplog.records
        if not r.name.startswith("mail.log")
    ]
    leaks = {s for s in secrets for line in logged + arguments if s in line}
    assert leaks == set(), [line for line in logged + arguments if any(s in line for s in leaks)]

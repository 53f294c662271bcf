"""A real Celery worker (the project's app, prefork pool) whose clock a test sets.

``python -m tests.recovery.clock_worker``: before Django loads, ``django.utils.timezone.now``
is made to read the instant written in the file ``CRM_TEST_CLOCK`` (every task reads it
afresh), so a test can run the worker "at 01:30 in Tokyo" and "at 09:00 the next morning"
within seconds. Everything else is as in production: the broker, the task code, PostgreSQL,
the SMTP server. ``CRM_TEST_SETTINGS`` (JSON) points Django at the test's SMTP server;
``CRM_TEST_RESULTS`` is a result backend so the test can wait for each task to finish.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path


def main() -> None:
    clock = Path(os.environ["CRM_TEST_CLOCK"])

    import django.utils.timezone

    def now() -> datetime:
        return datetime.fromisoformat(clock.read_text().strip())

    django.utils.timezone.now = now  # before any module binds it

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    import django

    django.setup()
    from django.conf import settings

    for name, value in json.loads(os.environ.get("CRM_TEST_SETTINGS", "{}")).items():
        setattr(settings, name, value)

    from saleor_crm_plugin.project.celery import app

    app.conf.result_backend = os.environ["CRM_TEST_RESULTS"]
    quiet = ["--without-mingle", "--without-gossip", "--without-heartbeat"]  # one worker
    app.worker_main(["worker", "--loglevel", "info", "--concurrency", "1", *quiet])


if __name__ == "__main__":
    main()

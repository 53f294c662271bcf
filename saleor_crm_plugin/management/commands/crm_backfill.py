"""``python manage.py crm_backfill`` in Saleor: the plugin's backfill, from Saleor's tables.

Saleor's administrators run Saleor's commands with Saleor's ``manage.py``; this is
``saleor-crm backfill`` under that name, with Saleor's settings already loaded.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Import Saleor's customers, orders and open checkouts into the CRM (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--restart", action="store_true", help="start from the first row again")

    def handle(self, *args: Any, **options: Any) -> None:
        from ...cli import main

        code = main(["backfill", *(["--restart"] if options["restart"] else [])])
        if code:
            raise CommandError(f"the backfill stopped (exit code {code}); run it again to resume")

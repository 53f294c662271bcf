"""How long the senders take to find and claim due messages as old messages pile up.

Usage (PostgreSQL from ``DATABASE_URL``; the database is dropped and recreated)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
      .venv/bin/python bench/messaging_due.py --old 10000,100000,1000000

For each size: that many messages already sent or skipped (years of them), plus 1,000 queued of
which 100 are due, then ``claim_due(now, 100)`` timed (median of 5, each run rolled back). The
floor is the same claim with no old messages at all: a claim whose cost follows the queue, not
the history, keeps a ratio near 1 however large the history grows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backfill import setup_database

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def fill(old: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE crm_message")
        cur.execute(
            """
            INSERT INTO crm_message (tenant_id, profile_id, channel, store_channel, purpose, kind,
              locale, context, dedupe_key, status, reason, created_at, due_at, attempts,
              provider_message_id, last_error)
            SELECT 1, 1 + g %% 5000, 'email', '', 'marketing', 'abandoned_checkout', 'de',
                   '{}'::jsonb, 'm:' || g,
                   CASE WHEN g > %(old)s THEN 'queued' WHEN g %% 3 = 0 THEN 'skipped'
                        ELSE 'sent' END,
                   '',
                   %(now)s - interval '3 years' + g * interval '1 second',
                   CASE WHEN g > %(old)s + 100 THEN %(now)s + interval '1 hour'
                        WHEN g > %(old)s THEN %(now)s - interval '1 minute'
                        ELSE %(now)s - interval '3 years' + g * interval '1 second' END,
                   1, '', ''
            FROM generate_series(1, %(old)s + 1000) g
            """,
            {"old": old, "now": NOW},
        )
        cur.execute("ANALYZE crm_message")


def timed_claim() -> float:
    from django.db import transaction

    from saleor_crm_plugin.messaging.services import claim_due

    runs = []
    for _ in range(5):
        with transaction.atomic():
            start = time.perf_counter()
            claimed = claim_due(NOW, 100)
            runs.append(time.perf_counter() - start)
            assert len(claimed) == 100, len(claimed)
            transaction.set_rollback(True)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default="10000,100000,1000000")
    args = parser.parse_args()
    setup_database()
    from saleor_crm_plugin.models import Profile, Tenant

    tenant = Tenant.objects.create(
        pk=1, saleor_api_url="http://bench/graphql/", base_currency="EUR"
    )
    Profile.objects.bulk_create(
        Profile(pk=i, tenant=tenant, email=f"c{i}@bench.example") for i in range(1, 5001)
    )

    fill(0)
    floor = timed_claim()
    print(f"| old messages | claim 100 due | ratio to floor ({floor * 1000:.2f} ms) |")
    print("| ---: | ---: | ---: |")
    for old in (int(x) for x in args.old.split(",")):
        fill(old)
        took = timed_claim()
        print(f"| {old:,} | {took * 1000:.2f} ms | {took / floor:.2f} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
    raise SystemExit(main())

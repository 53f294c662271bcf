"""Finding due messages reads the queue's index, however many old messages the store has."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from saleor_crm_plugin.messaging import services
from saleor_crm_plugin.messaging.models import Message
from tests.messaging.conftest import make_profile

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def test_the_due_query_is_an_index_range_scan_with_many_old_messages(tenant):
    anna = make_profile(tenant)
    with connection.cursor() as cur:
        # 50,000 messages already sent or skipped, 20 queued: one set-based insert.
        cur.execute(
            """
            INSERT INTO crm_message (tenant_id, profile_id, channel, store_channel, purpose,
              kind, locale, context, dedupe_key, status, reason, created_at, due_at, attempts,
              provider_message_id, last_error)
            SELECT %(tenant)s, %(profile)s, 'email', '', 'marketing', 'abandoned_checkout', 'de',
                   '{}'::jsonb, 'old:' || g,
                   CASE WHEN g <= 20 THEN 'queued' WHEN g %% 2 = 0 THEN 'sent' ELSE 'skipped' END,
                   '', %(now)s - g * interval '1 minute', %(now)s - g * interval '1 minute', 1,
                   '', ''
            FROM generate_series(1, 50020) g
            """,
            {"tenant": tenant.pk, "profile": anna.pk, "now": NOW},
        )
        cur.execute("ANALYZE crm_message")
        cur.execute("EXPLAIN " + services.DUE, {"now": NOW, "limit": 100})
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "crm_message_due" in plan, plan
    assert "Seq Scan" not in plan, plan
    claimed = services.claim_due(NOW, 100)
    assert len(claimed) == 20
    assert set(claimed) == set(
        Message.objects.filter(status="sending").values_list("pk", flat=True)
    )
    assert set(Message.objects.filter(pk__in=claimed).values_list("dedupe_key", flat=True)) == {
        f"old:{g}" for g in range(1, 21)
    }

"""Retention limits: raw webhook bodies, tracked behaviour and message logs are kept only as long
as the store says (``CRM_RETENTION_*_DAYS``; 0 keeps them).

Each limit is enforced in batches of ``CRM_RETENTION_BATCH_SIZE`` rows, one short transaction
per batch, along a partial index that holds only the rows still to be handled, so a first run
over years of history neither locks the tables for long nor re-reads what it already did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..conf import crm_settings

# Applied bodies only: a pending or failed delivery still has to be applied. The row and its
# hash stay, so a replay of the delivery is still recognised and ignored.
_INBOX = """
UPDATE crm_inbox_delivery SET body = ''::bytea, headers = '{}'::jsonb
WHERE id IN (
  SELECT id FROM crm_inbox_delivery
  WHERE state IN ('processed', 'ignored') AND NOT (body = ''::bytea) AND received_at < %(cutoff)s
  ORDER BY received_at LIMIT %(limit)s)
"""

# Behaviour, and the timeline entries made from it (they carry the search query).
_BEHAVIOUR = """
WITH gone AS (
  DELETE FROM crm_tracked_event WHERE id IN (
    SELECT id FROM crm_tracked_event WHERE occurred_at < %(cutoff)s
    ORDER BY occurred_at LIMIT %(limit)s)
  RETURNING id, tenant_id
), entries AS (
  DELETE FROM crm_timeline t USING gone
  WHERE t.tenant_id = gone.tenant_id AND t.dedupe_key = 'track:' || gone.id
)
SELECT count(*) FROM gone
"""

# Finished messages; a recovery step keeps its own sent time and outcome, only the link goes.
_MESSAGES = """
WITH doomed AS (
  SELECT id FROM crm_message
  WHERE status IN ('sent', 'skipped', 'failed') AND created_at < %(cutoff)s
  ORDER BY created_at LIMIT %(limit)s
), unlinked AS (
  UPDATE crm_recovery_step SET message_id = NULL WHERE message_id IN (SELECT id FROM doomed)
), gone AS (
  DELETE FROM crm_message WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) FROM gone
"""


@dataclass(frozen=True)
class RetentionResult:
    inbox_bodies_emptied: int
    behaviour_deleted: int
    messages_deleted: int


def _in_batches(sql: str, days: int, now: datetime, counted: bool) -> int:
    if days <= 0:
        return 0
    limit = crm_settings.RETENTION_BATCH_SIZE
    params: dict[str, Any] = {"cutoff": now - timedelta(days=days), "limit": limit}
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)
            done = int(cur.fetchone()[0]) if counted else cur.rowcount
        total += done
        if done < limit:
            return total


def enforce_retention(now: datetime | None = None) -> RetentionResult:
    """Apply every retention limit to every tenant. Idempotent: a second run finds nothing."""
    now = now or timezone.now()
    return RetentionResult(
        inbox_bodies_emptied=_in_batches(_INBOX, crm_settings.RETENTION_INBOX_DAYS, now, False),
        behaviour_deleted=_in_batches(_BEHAVIOUR, crm_settings.RETENTION_BEHAVIOUR_DAYS, now, True),
        messages_deleted=_in_batches(_MESSAGES, crm_settings.RETENTION_MESSAGE_DAYS, now, True),
    )

"""Personal data about a person that is not keyed by their profile: raw inbox bodies that name
them, and referrals in which they are the friend.

Deleting a profile takes everything keyed by it along (``identity._delete_profiles``); these are
the places that name a person by e-mail or Saleor user id instead, so an erasure that stopped at
the profile would leave the address in the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from .sql import EMAIL_HASH

# Serializes the scrubs of one store: two scanning at once would each lock rows the other
# waits for. (The inbox's own lock is 7321; a scrub never takes it.)
SCRUB_LOCK = 7322


def _escaped(value: str) -> str:
    """``value`` as PostgreSQL's ``encode(bytea, 'escape')`` prints its UTF-8 bytes, so that a
    search over raw bodies cannot fail on a body that is not valid UTF-8."""
    out = []
    for byte in value.encode():
        if byte == 0x5C:
            out.append("\\\\")
        elif byte >= 0x80 or byte == 0:
            out.append(f"\\{byte:03o}")
        else:
            out.append(chr(byte))
    return "".join(out)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def scrub_deliveries(
    cur: Any,
    tenant_id: int,
    emails: Iterable[str],
    user_ids: Iterable[str],
    *,
    wait: bool = False,
) -> int:
    """Empty the stored body, headers and error of every inbox row of the tenant that names one
    of ``emails`` (any letter case) or ``user_ids`` (as a JSON string).

    The row itself stays with its body hash: the hash is the dedupe key, so a replay of the same
    delivery is still a no-op, and the tombstone keeps anything newer from bringing the person
    back. A pending or failed row is set aside as ignored (``error_code='erased'``): there is
    nothing left to apply.

    Rows another worker has claimed but not applied yet are skipped rather than waited for
    (that worker waits for the tenant's lock we may hold: waiting would deadlock); such a row
    is applied against the tombstone, so it restores nothing, and its body is emptied by the
    inbox retention limit. This scans the tenant's inbox; erasures are rare and the retention
    limit keeps the bodies few. ``wait=True`` (a scrub of its own, after commit, holding no
    tenant lock: ``scrub_pending``) waits for such rows instead, and scrubs them once applied.
    """
    patterns = [_like(_escaped(e.lower())) for e in {e for e in emails if e}]
    patterns += [_like(_escaped(f'"{u}"')) for u in {u for u in user_ids if u}]
    if not patterns:
        return 0
    lock = "FOR UPDATE" if wait else "FOR UPDATE SKIP LOCKED"
    cur.execute(
        """
        UPDATE crm_inbox_delivery d SET body = ''::bytea, headers = '{}'::jsonb,
          error_message = '',
          state = CASE WHEN d.state IN ('pending', 'failed') THEN 'ignored' ELSE d.state END,
          error_code = CASE WHEN d.state IN ('pending', 'failed') THEN 'erased'
                            ELSE d.error_code END
        FROM (
          SELECT id FROM crm_inbox_delivery
          WHERE tenant_id = %(tenant)s AND octet_length(body) > 0
            AND (lower(encode(body, 'escape')) LIKE ANY(%(patterns)s)
                 OR lower(error_message) LIKE ANY(%(patterns)s))
          __LOCK__
        ) s
        WHERE d.id = s.id
        """.replace("__LOCK__", lock),
        {"tenant": tenant_id, "patterns": patterns},
    )
    return int(cur.rowcount)


def forget_as_friend(cur: Any, tenant_id: int, emails: Iterable[str]) -> None:
    """A referral keeps counting for its advocate, but the friend's address becomes the same
    salted hash the tombstone holds (still unique, so the friend cannot be referred twice) and
    the IP they claimed from is dropped."""
    wanted = sorted({e.lower() for e in emails if e})
    if not wanted:
        return
    hashed = EMAIL_HASH.format(tenant="%(tenant)s", email="friend_email")
    cur.execute(
        f"""
        UPDATE crm_referral SET friend_email = 'erased:' || {hashed}, ip = NULL
        WHERE tenant_id = %(tenant)s AND friend_email = ANY(%(emails)s)
        """,
        {"tenant": tenant_id, "emails": wanted},
    )


def empty_bodies(cur: Any, delivery_ids: list[int]) -> None:
    """Deliveries being applied that name an erased customer keep only their hash."""
    if delivery_ids:
        cur.execute(
            "UPDATE crm_inbox_delivery SET body = ''::bytea, headers = '{}'::jsonb "
            "WHERE id = ANY(%s)",
            [sorted(set(delivery_ids))],
        )


def queue_scrub(cur: Any, tenant_id: int, emails: Iterable[str], user_ids: Iterable[str]) -> bool:
    """Queue ``scrub_deliveries`` for after commit (``scrub_pending`` runs it); whether there
    was anything to search for. The caller gets ``scrub_pending`` run once it commits."""
    wanted_emails = sorted({e for e in emails if e})
    wanted_users = sorted({u for u in user_ids if u})
    if not wanted_emails and not wanted_users:
        return False
    cur.execute(
        "INSERT INTO crm_pending_scrub (tenant_id, emails, user_ids, created_at) "
        "VALUES (%s, %s, %s, now())",
        [tenant_id, wanted_emails, wanted_users],
    )
    return True


def scrub_pending(tenant_id: int | None = None) -> int:
    """Run the queued scrubs (of one tenant, or all), each in a transaction of its own that
    also removes it from the queue; returns how many ran. Safe to run twice or concurrently:
    a queued scrub is taken by one runner (``SKIP LOCKED``), a runner that dies leaves it
    queued, and scrubbing a body twice changes nothing."""
    done = 0
    where = "" if tenant_id is None else "WHERE tenant_id = %s"
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"""
                DELETE FROM crm_pending_scrub WHERE id = (
                  SELECT id FROM crm_pending_scrub {where}
                  ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING tenant_id, emails, user_ids
                """,
                [] if tenant_id is None else [tenant_id],
            )
            row = cur.fetchone()
            if row is None:
                return done
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SCRUB_LOCK, row[0]])
            scrub_deliveries(cur, row[0], row[1], row[2], wait=True)
        done += 1

"""Personal data about a person that is not keyed by their profile: raw inbox bodies that name
them, and referrals in which they are the friend.

Deleting a profile takes everything keyed by it along (``identity._delete_profiles``); these are
the places that name a person by e-mail or Saleor user id instead, so an erasure that stopped at
the profile would leave the address in the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .sql import EMAIL_HASH


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
    cur: Any, tenant_id: int, emails: Iterable[str], user_ids: Iterable[str]
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
    limit keeps the bodies few.
    """
    patterns = [_like(_escaped(e.lower())) for e in {e for e in emails if e}]
    patterns += [_like(_escaped(f'"{u}"')) for u in {u for u in user_ids if u}]
    if not patterns:
        return 0
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
          FOR UPDATE SKIP LOCKED
        ) s
        WHERE d.id = s.id
        """,
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

"""Which profile a customer is: creating, claiming, merging and deleting profiles, set-based.

Saleor keys customers by user id, but guests only by e-mail, and a guest may register later
with the same address (in any letter case). We keep one guest profile per e-mail and fold it
into the account's profile as soon as an account with that e-mail is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from ..inbox.types import Customer
from .sql import EMAIL_HASH
from .traces import forget_as_friend, queue_scrub, scrub_deliveries


def _delete_profiles(cur: Any, where: str, params: dict[str, Any]) -> None:
    """Delete the profiles matching ``where`` (over alias ``p``) with their timeline, tracked
    behaviour (personal data; also the same visitor's events never joined to anyone), points,
    tier, scores, stage history, predictions, category affinities and segment stays, recovery
    flows, messages, consents, memberships, staff notes, tags and service cases, and detach
    their orders and checkouts. Django's ``CASCADE`` lives in the ORM, not in the database, so
    set-based deletes take the dependants along."""
    cur.execute(
        f"""
        WITH doomed AS (SELECT p.id FROM crm_profile p WHERE {where}),
        gone AS (DELETE FROM crm_timeline WHERE profile_id IN (SELECT id FROM doomed)),
        behaviour AS (DELETE FROM crm_tracked_event t WHERE t.profile_id IN (SELECT id FROM doomed)
          OR (t.profile_id IS NULL AND (t.tenant_id, t.visitor_id) IN (
                SELECT v.tenant_id, v.visitor_id FROM crm_tracked_event v
                WHERE v.profile_id IN (SELECT id FROM doomed)))),
        points AS (DELETE FROM crm_points_entry WHERE profile_id IN (SELECT id FROM doomed)),
        tiers AS (DELETE FROM crm_tier_status WHERE profile_id IN (SELECT id FROM doomed)),
        codes AS (DELETE FROM crm_referral_code WHERE profile_id IN (SELECT id FROM doomed)),
        birthdays AS (DELETE FROM crm_birthday WHERE profile_id IN (SELECT id FROM doomed)),
        referred AS (DELETE FROM crm_referral WHERE advocate_id IN (SELECT id FROM doomed)),
        scores AS (DELETE FROM crm_customer_scores WHERE profile_id IN (SELECT id FROM doomed)),
        predicted AS (DELETE FROM crm_customer_prediction
                      WHERE profile_id IN (SELECT id FROM doomed)),
        affinity AS (DELETE FROM crm_category_affinity
                     WHERE profile_id IN (SELECT id FROM doomed)),
        segments AS (DELETE FROM crm_segment_member WHERE profile_id IN (SELECT id FROM doomed)),
        stages AS (DELETE FROM crm_stage_change WHERE profile_id IN (SELECT id FROM doomed)),
        steps AS (DELETE FROM crm_recovery_step WHERE flow_id IN (
                    SELECT id FROM crm_recovery_flow WHERE profile_id IN (SELECT id FROM doomed))),
        flows AS (DELETE FROM crm_recovery_flow WHERE profile_id IN (SELECT id FROM doomed)),
        sends AS (DELETE FROM crm_campaign_message WHERE profile_id IN (SELECT id FROM doomed)),
        audiences AS (DELETE FROM crm_campaign_recipient
                      WHERE profile_id IN (SELECT id FROM doomed)),
        messages AS (DELETE FROM crm_message WHERE profile_id IN (SELECT id FROM doomed)),
        consents AS (DELETE FROM crm_consent_entry WHERE profile_id IN (SELECT id FROM doomed)),
        members AS (DELETE FROM crm_membership WHERE profile_id IN (SELECT id FROM doomed)),
        feedback AS (DELETE FROM crm_feedback WHERE profile_id IN (SELECT id FROM doomed)),
        notes AS (DELETE FROM crm_note WHERE profile_id IN (SELECT id FROM doomed)),
        tags AS (DELETE FROM crm_tag WHERE profile_id IN (SELECT id FROM doomed)),
        cases AS (DELETE FROM crm_case WHERE profile_id IN (SELECT id FROM doomed)),
        spent AS (SELECT id FROM crm_points_entry WHERE profile_id IN (SELECT id FROM doomed)
                  AND kind = 'redeem'),
        orders AS (UPDATE crm_order
                   SET profile_id = CASE WHEN profile_id IN (SELECT id FROM doomed)
                                         THEN NULL ELSE profile_id END,
                       redemption_id = CASE WHEN redemption_id IN (SELECT id FROM spent)
                                            THEN NULL ELSE redemption_id END
                   WHERE profile_id IN (SELECT id FROM doomed)
                      OR redemption_id IN (SELECT id FROM spent)),
        checkouts AS (UPDATE crm_checkout SET profile_id = NULL
                      WHERE profile_id IN (SELECT id FROM doomed))
        DELETE FROM crm_profile WHERE id IN (SELECT id FROM doomed)
        """,
        params,
    )


def _move_campaign_rows(cur: Any, guests: list[int], accounts: list[int]) -> None:
    """A guest's campaign audience places and messages follow the person (their messages move
    too, and the response counts their orders), unless the account has its own for the same
    campaign or step: then the account's is kept and the guest's goes with the guest."""
    for table, key in (
        ("crm_campaign_recipient", "campaign_id"),
        ("crm_campaign_message", "step_id"),
    ):
        cur.execute(
            f"""
            UPDATE {table} t SET profile_id = m.account
            FROM unnest(%s::bigint[], %s::bigint[]) AS m(guest, account)
            WHERE t.profile_id = m.guest AND NOT EXISTS (
              SELECT 1 FROM {table} o WHERE o.{key} = t.{key} AND o.profile_id = m.account)
            """,
            [guests, accounts],
        )


def _keep_one_active_flow(cur: Any, guests: list[int], accounts: list[int]) -> None:
    """Before a guest's history joins an account: a customer has one active recovery flow, so
    the account's own is kept (else the guest flow with the newest cart) and the others end."""
    cur.execute(
        """
        WITH m AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS m(guest, account)),
        candidates AS (
          SELECT f.id, m.account, f.profile_id = m.account AS own, f.checkout_updated_at
          FROM crm_recovery_flow f JOIN m ON f.profile_id IN (m.guest, m.account)
          WHERE f.status = 'active'
        ),
        keep AS (
          SELECT DISTINCT ON (account) id FROM candidates
          ORDER BY account, own DESC, checkout_updated_at DESC
        )
        UPDATE crm_recovery_flow f SET status = 'stopped', stop_reason = 'merged',
          next_due_at = NULL, ended_at = now()
        FROM candidates c WHERE f.id = c.id AND c.id NOT IN (SELECT id FROM keep)
        """,
        [guests, accounts],
    )


def deleted_user_ids(tenant_id: int, user_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT user_id FROM crm_deleted_customer WHERE tenant_id = %s AND user_id = ANY(%s)",
            [tenant_id, ids],
        )
        return {row[0] for row in cur.fetchall()}


def delete_customers(
    tenant_id: int,
    deletions: Sequence[tuple[str, str, datetime]],
    *,
    reason: str = "saleor_deleted",
    actor: str = "",
    scrub_later: bool = False,
) -> bool:
    """Forget deleted customers: profile, timeline, and the e-mail on their orders.

    ``deletions`` are (user id, e-mail, when). The guest profile with the same e-mail goes too:
    it is the same person's history from before they registered. Order amounts stay (anonymous,
    with no user id) for the store's figures. Raw inbox bodies naming the person are emptied and
    a referral naming them as the friend keeps only a hash. A tombstone keeps a late or replayed
    event from bringing anything back.

    ``scrub_later``: the inbox bodies are searched after commit instead (``traces.queue_scrub``;
    the caller runs ``traces.scrub_pending`` then): the search reads every stored body of the
    store, and the inbox's batch holds the store's lock. Returns whether a scrub was queued.
    """
    if not deletions:
        return False
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "users": [u for u, _, _ in deletions],
        "emails": [e.lower() for _, e, _ in deletions],
        "at": [d for _, _, d in deletions],
        "reason": reason[:255],
        "actor": actor[:191],
    }
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO crm_deleted_customer (tenant_id, user_id, email_hash, deleted_at, reason,
                                              actor)
            SELECT %(tenant)s, u,
                   CASE WHEN e <> '' THEN {EMAIL_HASH.format(tenant="%(tenant)s", email="e")}
                        ELSE '' END, d, %(reason)s, %(actor)s
            FROM unnest(%(users)s::text[], %(emails)s::text[], %(at)s::timestamptz[]) AS x(u, e, d)
            ON CONFLICT (tenant_id, user_id) DO NOTHING
            """,
            params,
        )
        # Every address the person's records carried (an account's e-mail may have changed).
        cur.execute(
            """
            SELECT DISTINCT email FROM (
              SELECT email FROM crm_order WHERE tenant_id = %(tenant)s AND user_id = ANY(%(users)s)
              UNION ALL
              SELECT email FROM crm_checkout
              WHERE tenant_id = %(tenant)s AND user_id = ANY(%(users)s)
              UNION ALL
              SELECT email FROM crm_profile
              WHERE tenant_id = %(tenant)s AND user_id = ANY(%(users)s)
            ) e WHERE email <> ''
            """,
            params,
        )
        emails = {e for (e,) in cur.fetchall()} | {e for e in params["emails"] if e}
        for table in ("crm_order", "crm_checkout"):
            cur.execute(
                f"UPDATE {table} SET profile_id = NULL, email = '', user_id = NULL "
                "WHERE tenant_id = %(tenant)s "
                "AND (user_id = ANY(%(users)s) OR (user_id IS NULL AND email = ANY(%(emails)s)))",
                params,
            )
        queued = False
        if scrub_later:
            queued = queue_scrub(cur, tenant_id, emails, params["users"])
        else:
            scrub_deliveries(cur, tenant_id, emails, params["users"])
        forget_as_friend(cur, tenant_id, emails)
        _forget_fingerprints(cur, tenant_id)
        _delete_profiles(
            cur,
            "p.tenant_id = %(tenant)s AND (p.user_id = ANY(%(users)s) "
            "OR (p.user_id IS NULL AND p.email = ANY(%(emails)s)))",
            params,
        )
    return queued


def forget_erased_account_activity(tenant_id: int, user_ids: Iterable[str]) -> None:
    """Orders and checkouts of a deleted account that arrive after the deletion are kept for
    the store's figures, anonymous: no profile, no e-mail, no user id."""
    dead = sorted(set(user_ids))
    if not dead:
        return
    with connection.cursor() as cur:
        for table in ("crm_order", "crm_checkout"):
            cur.execute(
                f"UPDATE {table} SET profile_id = NULL, email = '', user_id = NULL "
                "WHERE tenant_id = %s AND user_id = ANY(%s)",
                [tenant_id, dead],
            )
        _forget_fingerprints(cur, tenant_id)


def _forget_fingerprints(cur: Any, tenant_id: int) -> None:
    """Orders attached to no one (a deleted customer's) keep no address or card hashes."""
    cur.execute(
        "UPDATE crm_order SET address_key = '', payment_keys = '{}' WHERE tenant_id = %s "
        "AND profile_id IS NULL AND email = '' "
        "AND (address_key <> '' OR cardinality(payment_keys) > 0)",
        [tenant_id],
    )


def forget_erased_guest_activity(tenant_id: int, emails: Iterable[str]) -> dict[str, datetime]:
    """Guest activity from before a deletion that arrived after it is attached to no one.

    A late guest event re-creates a guest profile for the e-mail of a deleted customer; its
    orders and checkouts from before the deletion are detached (and lose the e-mail), and the
    profile goes if nothing newer than the deletion is left on it. Returns the erased e-mails
    among ``emails`` with the time of their erasure.
    """
    wanted = sorted({e for e in emails if e})
    if not wanted:
        return {}
    erased = EMAIL_HASH.format(tenant="%(tenant)s", email="e")
    params: dict[str, Any] = {"tenant": tenant_id, "emails": wanted}
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT e, d.deleted_at, (SELECT p.id FROM crm_profile p WHERE p.tenant_id = %(tenant)s
                                     AND p.user_id IS NULL AND p.email = e)
            FROM unnest(%(emails)s::text[]) AS x(e)
            JOIN crm_deleted_customer d ON d.tenant_id = %(tenant)s AND d.email_hash = {erased}
            """,
            params,
        )
        found = cur.fetchall()
        if not found:
            return {}
        params.update(
            erased_emails=[e for e, _, _ in found],
            deleted_at=[d for _, d, _ in found],
            profile=[p for _, _, p in found],
        )
        for table in ("crm_order", "crm_checkout"):
            cur.execute(
                f"""
                UPDATE {table} o SET profile_id = NULL, email = ''
                FROM unnest(%(erased_emails)s::text[], %(deleted_at)s::timestamptz[],
                            %(profile)s::bigint[]) AS x(e, deleted_at, profile_id)
                WHERE o.tenant_id = %(tenant)s AND o.user_id IS NULL
                  AND (o.email = x.e OR o.profile_id = x.profile_id)
                  AND o.issued_at <= x.deleted_at
                """,
                params,
            )
        _forget_fingerprints(cur, tenant_id)
        _delete_profiles(
            cur,
            """p.id = ANY(%(profile)s)
              AND NOT EXISTS (SELECT 1 FROM crm_order o WHERE o.profile_id = p.id)
              AND NOT EXISTS (SELECT 1 FROM crm_checkout c WHERE c.profile_id = p.id)""",
            params,
        )
    return {e: d for e, d, _ in found}


def ensure_registered(tenant_id: int, identities: Sequence[tuple[str, str]]) -> None:
    """Make sure each (user id, e-mail) has a profile, claiming a guest profile if one exists."""
    if not identities:
        return
    users = [u for u, _ in identities]
    emails = [e for _, e in identities]
    with connection.cursor() as cur:
        # A guest who registers keeps their profile (and its id): it becomes the account's.
        cur.execute(
            """
            UPDATE crm_profile g SET user_id = r.user_id, updated_at = now()
            FROM (
              SELECT DISTINCT ON (email) user_id, email
              FROM unnest(%(users)s::text[], %(emails)s::text[]) AS x(user_id, email)
              WHERE email <> '' ORDER BY email, user_id
            ) r
            WHERE g.tenant_id = %(tenant)s AND g.user_id IS NULL AND g.email = r.email
              AND NOT EXISTS (
                SELECT 1 FROM crm_profile x
                WHERE x.tenant_id = %(tenant)s AND x.user_id = r.user_id)
            """,
            {"tenant": tenant_id, "users": list(users), "emails": list(emails)},
        )
        cur.execute(
            """
            INSERT INTO crm_profile (tenant_id, user_id, email, """
            + _DEFAULTS_COLUMNS
            + """)
            SELECT DISTINCT ON (user_id) %(tenant)s, user_id, email, """
            + _DEFAULTS_VALUES
            + """
            FROM unnest(%(users)s::text[], %(emails)s::text[]) AS x(user_id, email)
            ORDER BY user_id, email DESC
            ON CONFLICT (tenant_id, user_id) WHERE user_id IS NOT NULL DO NOTHING
            """,
            {"tenant": tenant_id, "users": list(users), "emails": list(emails)},
        )


def ensure_guests(tenant_id: int, emails: Iterable[str]) -> None:
    """A guest e-mail nobody has a profile for gets a guest profile."""
    wanted = sorted({e for e in emails if e})
    if not wanted:
        return
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_profile (tenant_id, user_id, email, """
            + _DEFAULTS_COLUMNS
            + """)
            SELECT %(tenant)s, NULL, e, """
            + _DEFAULTS_VALUES
            + """
            FROM unnest(%(emails)s::text[]) AS x(e)
            WHERE NOT EXISTS (
              SELECT 1 FROM crm_profile p WHERE p.tenant_id = %(tenant)s AND p.email = x.e)
            ON CONFLICT (tenant_id, email) WHERE user_id IS NULL DO NOTHING
            """,
            {"tenant": tenant_id, "emails": wanted},
        )


def update_customers(tenant_id: int, customers: Sequence[tuple[Customer, datetime]]) -> None:
    """Write customer attributes, newest version wins (``updatedAt``, then ``issuedAt``)."""
    newest: dict[str, tuple[Customer, datetime]] = {}
    for customer, issued in customers:
        key = (customer.updated_at or issued, issued)
        current = newest.get(customer.user_id)
        if current is None or key > ((current[0].updated_at or current[1]), current[1]):
            newest[customer.user_id] = (customer, issued)
    if not newest:
        return
    rows = list(newest.values())
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE crm_profile p SET
              email = CASE WHEN v.email <> '' THEN v.email ELSE p.email END,
              first_name = v.first_name, last_name = v.last_name,
              customer_language = v.language, customer_country = v.country, phone = v.phone,
              is_active = v.is_active, joined_at = COALESCE(v.joined_at, p.joined_at),
              customer_updated_at = v.updated_at, customer_issued_at = v.issued_at,
              updated_at = now()
            FROM unnest(%(user_id)s::text[], %(email)s::text[], %(first)s::text[], %(last)s::text[],
                        %(lang)s::text[], %(country)s::text[], %(active)s::bool[],
                        %(joined)s::timestamptz[], %(updated)s::timestamptz[],
                        %(issued)s::timestamptz[], %(phone)s::text[])
              AS v(user_id, email, first_name, last_name, language, country, is_active, joined_at,
                   updated_at, issued_at, phone)
            WHERE p.tenant_id = %(tenant)s AND p.user_id = v.user_id
              AND (p.customer_updated_at IS NULL
                   OR (v.updated_at, v.issued_at) > (p.customer_updated_at, p.customer_issued_at))
            """,
            {
                "tenant": tenant_id,
                "user_id": [c.user_id for c, _ in rows],
                "email": [c.email for c, _ in rows],
                "first": [c.first_name for c, _ in rows],
                "last": [c.last_name for c, _ in rows],
                "lang": [c.language for c, _ in rows],
                "country": [c.country for c, _ in rows],
                "active": [c.is_active for c, _ in rows],
                "joined": [c.joined_at for c, _ in rows],
                "updated": [c.updated_at or i for c, i in rows],
                "issued": [i for _, i in rows],
                "phone": [c.phone for c, _ in rows],
            },
        )


def merge_guests_into_accounts(tenant_id: int, emails: Iterable[str]) -> set[int]:
    """Fold guest profiles into the account profile with the same e-mail.

    Moves orders, checkouts, timeline entries and points, then deletes the guest profile.
    Returns the account profile ids that received anything (their aggregates must be recomputed).
    """
    wanted = sorted({e for e in emails if e})
    if not wanted:
        return set()
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT g.id, (SELECT r.id FROM crm_profile r
                          WHERE r.tenant_id = g.tenant_id AND r.email = g.email
                            AND r.user_id IS NOT NULL ORDER BY r.id LIMIT 1)
            FROM crm_profile g
            WHERE g.tenant_id = %s AND g.user_id IS NULL AND g.email = ANY(%s)
            """,
            [tenant_id, wanted],
        )
        pairs = [(g, r) for g, r in cur.fetchall() if r is not None]
        if not pairs:
            return set()
        guests = [g for g, _ in pairs]
        accounts = [r for _, r in pairs]
        _keep_one_active_flow(cur, guests, accounts)
        _move_campaign_rows(cur, guests, accounts)
        moved = (
            "crm_order",
            "crm_checkout",
            "crm_timeline",
            "crm_tracked_event",
            "crm_points_entry",
            "crm_message",  # the frequency cap and the history follow the person
            "crm_consent_entry",  # given at a guest checkout, by the same person
            "crm_recovery_flow",
            "crm_feedback",  # their ratings of orders that move with them
            "crm_note",  # what staff know about the person, and their cases, follow them
            "crm_tag",
            "crm_case",
            "crm_stage_change",  # the person's stages, interleaved (see the DELETE below)
        )
        # A tag on both profiles is kept once (the account's): one row per customer and tag.
        cur.execute(
            """
            DELETE FROM crm_tag t USING unnest(%s::bigint[], %s::bigint[]) AS m(guest, account)
            WHERE t.profile_id = m.guest AND EXISTS (
              SELECT 1 FROM crm_tag a WHERE a.profile_id = m.account AND a.tag = t.tag)
            """,
            [guests, accounts],
        )
        # A change both profiles went through in the same scoring is kept once (the account's).
        cur.execute(
            """
            DELETE FROM crm_stage_change c
            USING unnest(%s::bigint[], %s::bigint[]) AS m(guest, account)
            WHERE c.profile_id = m.guest AND EXISTS (
              SELECT 1 FROM crm_stage_change a WHERE a.profile_id = m.account
                AND a.changed_at = c.changed_at AND a.from_stage = c.from_stage
                AND a.to_stage = c.to_stage)
            """,
            [guests, accounts],
        )
        for table in moved:
            cur.execute(
                f"""
                UPDATE {table} t SET profile_id = m.account
                FROM unnest(%s::bigint[], %s::bigint[]) AS m(guest, account)
                WHERE t.profile_id = m.guest
                """,
                [guests, accounts],
            )
        _delete_profiles(cur, "p.id = ANY(%(ids)s)", {"ids": guests})
    return set(accounts)


_DEFAULTS_COLUMNS = (
    "first_name, last_name, is_active, customer_language, customer_country, language, country, "
    "time_zone, orders_count, cancelled_orders_count, spent_gross_minor, spent_net_minor, "
    "refunded_minor, average_order_minor, refund_rate, totals_by_currency, channels, "
    "payment_methods, categories, products, created_at, updated_at"
)
_DEFAULTS_VALUES = (
    "'', '', true, '', '', '', '', '', 0, 0, 0, 0, 0, 0, 0, '{}'::jsonb, '{}', '{}', '{}', '{}', "
    "now(), now()"
)

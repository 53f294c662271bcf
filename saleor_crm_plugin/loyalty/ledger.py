"""The points ledger: earning on orders, reversing refunds and cancellations, redeeming.

Points follow the stored order records (``crm_order``), not the deliveries: a record always
holds the newest state of its order, so replays, duplicates and late deliveries cannot move
points twice, and the (source, source id, kind) uniqueness rule makes a second credit of the
same thing impossible even if they could.

- An order earns when it becomes a purchase: points for its gross total in the base currency
  at the FX rate of its day (or in its own currency where the rules say so), times the
  customer's tier multiplier, by the store's earning rules in force when it was placed
  (``earning.py``), pending until its return window closes (``available_at``).
- A refund reverses the refunded share of what the order earned, as recorded on its earn entry,
  never today's rules. Reversals are cumulative: after each refund the order's reversed total
  is ``floor(earned * refunded / total)``, so partial refunds can never reverse more than their
  share, and a full refund reverses everything.
- A cancellation voids what the order earned and had not reversed yet.
- Nothing may take the balance below zero: a reversal larger than what is left (the customer
  already redeemed the points) takes what is left and records the shortfall on the entry.

Reversals, voids and redemptions lock the customer's profile row, so they serialize per
customer; earning is one set-based statement per batch, and so are a batch's reversals and
voids (``reversals.py``).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from ..conf import crm_settings
from ..money.currencies import minor_units
from ..profiles.events import NOT_PURCHASES
from ..profiles.models import Profile, TimelineEntry
from ..tenants.models import Tenant
from . import earning, events, referrals
from .models import EntryKind, PointsEntry
from .reversals import ORDER, ToReverse, reverse_orders
from .tiers import TierRules, current_program

REDEMPTION = "redemption"
# Entries that take an order's points back, or hold them (a release gives a hold back): what a
# refund or a cancellation still owes is what the order earned minus all of these.
TAKEN_BACK = "('reverse', 'void', 'hold', 'release')"


class NotEnoughPoints(Exception):
    """A redemption asked for more available points than the customer has."""

    code = "not_enough_points"


@dataclass(frozen=True)
class Balance:
    available: int  # can be redeemed now
    pending: int  # earned on orders still inside their return window

    @property
    def total(self) -> int:
        return self.available + self.pending


def sync_orders(tenant: Tenant, order_ids: Iterable[str]) -> None:
    """Bring the ledger in line with the stored state of these orders (inside the apply)."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    _earn(tenant, ids)
    _follow_merged_profiles(tenant.pk, ids)
    # Disputes first: a won dispute's release must come before the refund's reversal is due.
    for dispute in _disputes_to_settle(tenant.pk, ids):
        _settle_dispute(tenant.pk, *dispute)
    reverse_orders(tenant.pk, _orders_to_reverse(tenant.pk, ids))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT profile_id FROM crm_order WHERE tenant_id = %s AND order_id = ANY(%s)"
            " AND profile_id IS NOT NULL",
            [tenant.pk, ids],
        )
        events.record_points(tenant.pk, [row[0] for row in cur.fetchall()])


def _earn(tenant: Tenant, order_ids: Sequence[str]) -> None:
    """Points of orders that became purchases, at the customer's tier multiplier of the moment.

    Each order earns by the store's earning rules in force when it was placed (``earning``):
    an order in a currency with its own rule earns on its own total in that currency, exact in
    its minor units; every other order on its value in the base currency at the FX rate of its
    day. The rules' version, the basis (currency, amount, rate) and the tier with its multiplier
    are recorded on the entry, so later rule changes never rewrite what was earned; reversals
    take back shares of the recorded points, whatever basis earned them.
    """
    program = current_program(tenant)
    tier_rules = TierRules.from_data(program.rules).tiers if program else ()
    versions = earning.history(tenant)
    own = [(v, code, rate) for _, v, rules in versions for code, rate in rules.points_per_currency]
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source, source_id,
              created_at, available_at, reason, actor, data)
            SELECT o.tenant_id, o.profile_id, 'earn', e.points, 'order', o.order_id, now(),
              o.created_at + make_interval(days => r.days), '', '',
              jsonb_build_object('base_minor', o.total_gross_base_minor,
                                 'basis', b.currency, 'basis_minor', b.amount,
                                 'per_unit', b.per_unit::text, 'rules_version', r.version,
                                 'tier', s.tier, 'multiplier', coalesce(m.factor, 1)::text)
            FROM crm_order o
            CROSS JOIN LATERAL (
              SELECT v.version, v.per_unit, v.days
              FROM unnest(%(v_from)s::timestamptz[], %(v_versions)s::int[],
                          %(v_per_unit)s::numeric[], %(v_days)s::int[])
                AS v(valid_from, version, per_unit, days)
              WHERE v.valid_from <= o.created_at
              ORDER BY v.version DESC LIMIT 1
            ) r
            LEFT JOIN crm_tier_status s ON s.profile_id = o.profile_id
            LEFT JOIN unnest(%(tiers)s::text[], %(factors)s::numeric[]) AS m(name, factor)
              ON m.name = s.tier
            LEFT JOIN unnest(%(c_versions)s::int[], %(codes)s::text[], %(rates)s::numeric[],
                             %(scales)s::numeric[])
              AS c(version, code, per_unit, scale) ON c.code = o.currency AND c.version = r.version,
              LATERAL (
                SELECT coalesce(c.code, %(base)s) AS currency,
                       CASE WHEN c.code IS NULL THEN o.total_gross_base_minor
                            ELSE o.total_gross_minor END AS amount,
                       coalesce(c.per_unit, r.per_unit) AS per_unit,
                       coalesce(c.scale, %(scale)s::numeric) AS scale
              ) b,
              LATERAL (SELECT floor(b.amount * b.per_unit * coalesce(m.factor, 1)
                                    / b.scale)::bigint AS points) e
            WHERE o.tenant_id = %(tenant)s AND o.order_id = ANY(%(ids)s)
              AND o.profile_id IS NOT NULL AND o.status <> ALL(%(not_purchases)s)
              AND e.points > 0
            ON CONFLICT (tenant_id, source, source_id, kind) DO NOTHING
            """,
            {
                "tenant": tenant.pk,
                "ids": list(order_ids),
                "v_from": [valid_from for valid_from, _, _ in versions],
                "v_versions": [version for _, version, _ in versions],
                "v_per_unit": [str(rules.points_per_unit) for _, _, rules in versions],
                "v_days": [rules.return_days for _, _, rules in versions],
                "base": tenant.base_currency,
                "scale": 10 ** minor_units(tenant.base_currency),
                "c_versions": [version for version, _, _ in own],
                "codes": [code for _, code, _ in own],
                "rates": [str(rate) for _, _, rate in own],
                "scales": [10 ** minor_units(code) for _, code, _ in own],
                "not_purchases": list(NOT_PURCHASES),
                "tiers": [t.name for t in tier_rules],
                "factors": [str(t.multiplier) for t in tier_rules],
            },
        )


def _follow_merged_profiles(tenant_id: int, order_ids: Sequence[str]) -> None:
    """A guest's order that joined an account brings its points along.

    An entry's order is the part of its source id before any ``@`` (Saleor's order ids are
    base64 and never contain one), looked up through ``crm_points_order``. Matching
    ``source_id = order OR source_id LIKE order || '@%'`` instead could use no index: every
    batch compared each of its orders with every order entry of the tenant (165 ms a batch
    with 800 entries, growing with the ledger). Each order looks up its profile and entries in
    subqueries run once per order: written as a join, the planner, short of statistics (a young
    store, autovacuum behind a burst), still compared every entry of the batch with every order
    of the store (57,000 comparisons, 20-50 ms a batch at 300 customers)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH m AS MATERIALIZED (
              SELECT unnest(ARRAY(
                       SELECT e.id FROM crm_points_entry e
                       WHERE e.tenant_id = %(tenant)s AND e.source = 'order'
                         AND split_part(e.source_id, '@', 1) = v.order_id)) AS entry_id,
                     (SELECT o.profile_id FROM crm_order o
                      WHERE o.tenant_id = %(tenant)s AND o.order_id = v.order_id) AS profile_id
              FROM unnest(%(ids)s::text[]) AS v(order_id)
            )
            UPDATE crm_points_entry e SET profile_id = m.profile_id
            FROM m
            WHERE e.id = ANY(ARRAY(SELECT entry_id FROM m WHERE profile_id IS NOT NULL))
              AND e.id = m.entry_id AND m.profile_id IS NOT NULL
              AND e.profile_id <> m.profile_id
            """,
            {"tenant": tenant_id, "ids": list(order_ids)},
        )


def _orders_to_reverse(tenant_id: int, order_ids: Sequence[str]) -> list[ToReverse]:
    """(order, profile, cancelled, refunded, total, earned, earn available_at, taken back so
    far) of the orders that were refunded or cancelled. Refunded and total are in the order's
    own currency: the refunded share is exact there, where base amounts each carry their own
    FX rounding. Taken back is ``_taken_back``'s sum, read here for every order at once: the
    reversals write an order's entries only for that order (bonus voids are not the order's),
    and disputes are settled before them.

    Refunded is the larger of what Saleor and Stripe (``crm_stripe_charge``, linked through the
    order's PSP references) report: whichever tells us first reverses, the other finds the
    same amount and moves nothing."""
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT o.order_id, o.profile_id, o.status = 'CANCELED',
              greatest(o.refunded_minor, coalesce(s.refunded, 0)),
              o.total_gross_minor, e.points, e.available_at,
              (SELECT coalesce(-sum(t.points), 0)::bigint FROM crm_points_entry t
               WHERE t.tenant_id = o.tenant_id AND t.source = 'order'
                 AND t.kind IN {TAKEN_BACK}
                 AND split_part(t.source_id, '@', 1) = o.order_id)
            FROM crm_order o
            JOIN crm_points_entry e ON e.tenant_id = o.tenant_id AND e.source = 'order'
              AND e.source_id = o.order_id AND e.kind = 'earn'
            LEFT JOIN LATERAL (
              SELECT sum(c.refunded_minor)::bigint AS refunded FROM crm_stripe_charge c
              WHERE c.tenant_id = o.tenant_id AND c.currency = o.currency
                AND (c.charge_id = ANY(o.psp_references)
                     OR (c.payment_intent <> '' AND c.payment_intent = ANY(o.psp_references)))
            ) s ON TRUE
            WHERE o.tenant_id = %s AND o.order_id = ANY(%s)
              AND (o.status = 'CANCELED' OR o.refunded_minor > 0 OR s.refunded > 0)
            ORDER BY o.profile_id, o.order_id
            """,
            [tenant_id, list(order_ids)],
        )
        return [tuple(row) for row in cur.fetchall()]  # type: ignore[misc]


def _disputes_to_settle(
    tenant_id: int, order_ids: Sequence[str]
) -> list[tuple[str, int, str, str, int, datetime, int | None]]:
    """(order, profile, dispute, stage, earned, earn available_at, disputed share) of disputes
    on these orders' Stripe payments (``crm_stripe_dispute``, linked through the order's PSP
    references). The disputed share is the points of the disputed amount, rounded down as a
    refund's are; None when the dispute's currency is not the order's (then all is held)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT o.order_id, o.profile_id, d.dispute_id, d.stage, e.points, e.available_at,
              CASE WHEN d.currency = o.currency AND d.amount_minor > 0 AND o.total_gross_minor > 0
                THEN least(d.amount_minor, o.total_gross_minor) * e.points / o.total_gross_minor
              END
            FROM crm_order o
            JOIN crm_points_entry e ON e.tenant_id = o.tenant_id AND e.source = 'order'
              AND e.source_id = o.order_id AND e.kind = 'earn'
            JOIN crm_stripe_dispute d ON d.tenant_id = o.tenant_id
              AND (d.charge_id = ANY(o.psp_references)
                   OR (d.payment_intent <> '' AND d.payment_intent = ANY(o.psp_references)))
            WHERE o.tenant_id = %s AND o.order_id = ANY(%s)
            ORDER BY o.profile_id, o.order_id, d.dispute_id
            """,
            [tenant_id, list(order_ids)],
        )
        return [tuple(row) for row in cur.fetchall()]  # type: ignore[misc]


def _settle_dispute(
    tenant_id: int,
    order_id: str,
    profile_id: int,
    dispute_id: str,
    stage: str,
    earned: int,
    available_at: datetime,
    disputed: int | None = None,
) -> None:
    """An open or lost dispute holds the points of the disputed amount, at most what the order
    still has (once); a won one releases exactly what was held (once). A dispute first seen
    already won holds nothing."""
    _lock(profile_id)
    source_id = f"{order_id}@dispute:{dispute_id}"
    held = PointsEntry.objects.filter(
        tenant_id=tenant_id, source=ORDER, source_id=source_id, kind=EntryKind.HOLD
    ).first()
    now = timezone.now()
    if stage == "won":
        if held is not None and held.points < 0:
            PointsEntry.objects.get_or_create(
                tenant_id=tenant_id,
                source=ORDER,
                source_id=source_id,
                kind=EntryKind.RELEASE,
                defaults={
                    "profile_id": profile_id,
                    "points": -held.points,
                    "created_at": now,
                    "available_at": available_at,
                    "data": {"order_id": order_id, "dispute_id": dispute_id},
                },
            )
        return
    if held is not None:
        return
    taken_back = _taken_back(tenant_id, order_id)
    due = max(0, earned - taken_back)
    if disputed is not None:
        due = min(due, disputed)
    taken = min(due, max(0, balance_of(profile_id).total))
    PointsEntry.objects.create(
        tenant_id=tenant_id,
        profile_id=profile_id,
        kind=EntryKind.HOLD,
        points=-taken,
        source=ORDER,
        source_id=source_id,
        created_at=now,
        available_at=available_at,
        data={"order_id": order_id, "dispute_id": dispute_id, "due": due, "shortfall": due - taken},
    )


def _taken_back(tenant_id: int, order_id: str) -> int:
    """What an order's reversals, voids and holds took back so far (each refund level has its
    own entry, ``order@refunded``)."""
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT coalesce(-sum(points), 0) FROM crm_points_entry
            WHERE tenant_id = %s AND source = 'order' AND kind IN {TAKEN_BACK}
              AND (source_id = %s OR source_id LIKE %s)
            """,
            [tenant_id, order_id, order_id + "@%"],
        )
        row = cur.fetchone()
    return int(row[0]) if row else 0


def _lock(profile_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM crm_profile WHERE id = %s FOR UPDATE", [profile_id])


def balances(profile_ids: Iterable[int], at: datetime | None = None) -> dict[int, Balance]:
    """Available and pending points of many customers in one query."""
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT profile_id,
              coalesce(sum(points) FILTER (WHERE available_at <= %(at)s), 0),
              coalesce(sum(points) FILTER (WHERE available_at > %(at)s), 0)
            FROM crm_points_entry WHERE profile_id = ANY(%(ids)s) GROUP BY profile_id
            """,
            {"ids": ids, "at": at or timezone.now()},
        )
        found = {row[0]: Balance(int(row[1]), int(row[2])) for row in cur.fetchall()}
    return {i: found.get(i, Balance(0, 0)) for i in ids}


def balance_of(profile_id: int, at: datetime | None = None) -> Balance:
    return balances([profile_id], at)[profile_id]


def redeem(
    tenant: Tenant, profile_id: int, points: int, *, redemption_id: str, reason: str = ""
) -> PointsEntry:
    """Spend available points; one redemption id is spent once, however often it is asked.

    Raises NotEnoughPoints, and writes nothing, when the available balance is short. Parallel
    redemptions of one customer queue on the profile row, so exactly the affordable ones pass.
    """
    if points <= 0:
        raise ValueError("a redemption spends a positive number of points")
    with transaction.atomic():
        _lock(profile_id)
        done = PointsEntry.objects.filter(
            tenant=tenant, source=REDEMPTION, source_id=redemption_id, kind=EntryKind.REDEEM
        ).first()
        if done is not None:
            return done
        available = balance_of(profile_id).available
        if points > available:
            raise NotEnoughPoints(f"{points} points asked, {available} available")
        now = timezone.now()
        entry = PointsEntry.objects.create(
            tenant=tenant,
            profile_id=profile_id,
            kind=EntryKind.REDEEM,
            points=-points,
            source=REDEMPTION,
            source_id=redemption_id,
            created_at=now,
            available_at=now - timedelta(microseconds=1),
            reason=reason,
        )
        events.record_points(tenant.pk, [profile_id], ("redeem",))
        return entry


def adjust(
    tenant: Tenant, profile_id: int, points: int, *, reason: str, actor: str, adjustment_id: str
) -> PointsEntry:
    """A staff correction, with the reason and who made it; available at once, and on the
    customer's timeline as ``crm.points.adjusted`` (a staff action) in the same transaction.

    The same adjustment id is applied once. A deduction larger than the balance is refused
    (NotEnoughPoints): the ledger never goes negative.
    """
    if points == 0 or not reason.strip():
        raise ValueError("an adjustment moves some points and says why")
    with transaction.atomic():
        _lock(profile_id)
        done = PointsEntry.objects.filter(
            tenant=tenant, source="staff", source_id=adjustment_id, kind=EntryKind.ADJUST
        ).first()
        if done is not None:
            return done
        total = balance_of(profile_id).total
        if points < 0 and -points > total:
            raise NotEnoughPoints(f"{-points} points to deduct, {total} on the balance")
        now = timezone.now()
        entry = PointsEntry.objects.create(
            tenant=tenant,
            profile_id=profile_id,
            kind=EntryKind.ADJUST,
            points=points,
            source="staff",
            source_id=adjustment_id,
            created_at=now,
            available_at=now - timedelta(microseconds=1),
            reason=reason.strip(),
            actor=actor,
        )
        TimelineEntry.objects.create(
            tenant=tenant,
            profile_id=profile_id,
            kind="crm.points.adjusted",
            occurred_at=now,
            subject_id=adjustment_id[:128],
            data={"points": points, "reason": entry.reason, "by": actor},
            dedupe_key=f"points.adjusted:{entry.pk}",
        )
        return entry


def sync_customers(tenant: Tenant, order_ids: Iterable[str], user_ids: Iterable[str]) -> None:
    """Bonuses of the customers behind these orders and accounts (inside the apply)."""
    orders, users = sorted(set(order_ids)), sorted(set(user_ids))
    if not orders and not users:
        return
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT profile_id FROM crm_order
            WHERE tenant_id = %(tenant)s AND order_id = ANY(%(orders)s) AND profile_id IS NOT NULL
            UNION
            SELECT id FROM crm_profile WHERE tenant_id = %(tenant)s AND user_id = ANY(%(users)s)
            """,
            {"tenant": tenant.pk, "orders": orders, "users": users},
        )
        profiles = [row[0] for row in cur.fetchall()]
    grant_bonuses(tenant, profiles)
    referrals.reward(tenant, profiles)
    events.record_points(tenant.pk, profiles, ("bonus",))


def grant_bonuses(tenant: Tenant, profile_ids: Iterable[int]) -> None:
    """Sign-up and first-order bonuses of these customers, each granted once, set-based.

    A registered customer gets the sign-up bonus; a customer whose first order earned points
    (and was neither cancelled nor refunded in full) gets the first-order bonus, pending exactly
    as long as that order's points, and taken back if the order is cancelled or refunded in full
    later. Either is off when the store's earning rules make it 0.
    """
    ids = sorted(set(profile_ids))
    rules = earning.rules_for(tenant) if ids else None
    signup, first = (rules.signup_bonus, rules.first_order_bonus) if rules else (0, 0)
    if not ids or (signup <= 0 and first <= 0):
        return
    with connection.cursor() as cur:
        if signup > 0:
            cur.execute(
                """
                INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source,
                  source_id, created_at, available_at, reason, actor, data)
                SELECT p.tenant_id, p.id, 'bonus', %(points)s, 'signup', p.user_id, now(),
                  now(), 'sign-up bonus', '', '{}'::jsonb
                FROM crm_profile p
                WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(ids)s) AND p.user_id IS NOT NULL
                ON CONFLICT (tenant_id, source, source_id, kind) DO NOTHING
                """,
                {"tenant": tenant.pk, "ids": ids, "points": signup},
            )
        if first > 0:
            cur.execute(
                """
                INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source,
                  source_id, created_at, available_at, reason, actor, data)
                SELECT DISTINCT ON (e.profile_id) e.tenant_id, e.profile_id, 'bonus',
                  %(points)s, 'first_order', p.email, now(), e.available_at,
                  'first-order bonus', '', jsonb_build_object('order_id', e.source_id)
                FROM crm_points_entry e
                JOIN crm_profile p ON p.id = e.profile_id
                JOIN crm_order o ON o.tenant_id = e.tenant_id AND o.order_id = e.source_id
                WHERE e.tenant_id = %(tenant)s AND e.profile_id = ANY(%(ids)s)
                  AND e.kind = 'earn' AND o.status <> 'CANCELED'
                  AND o.refunded_minor < o.total_gross_minor
                ORDER BY e.profile_id, e.available_at, e.id
                ON CONFLICT (tenant_id, source, source_id, kind) DO NOTHING
                """,
                {"tenant": tenant.pk, "ids": ids, "points": first},
            )


# Each positive lot with what its own reversals and voids took back; ``lots`` is per profile.
LOTS_SQL = """
  SELECT e.profile_id, e.available_at,
         e.points + coalesce((
           SELECT sum(r.points) FROM crm_points_entry r
           WHERE r.tenant_id = e.tenant_id AND r.source = e.source
             AND r.kind IN ('reverse', 'void', 'hold', 'release')
             AND (r.source_id = e.source_id OR r.source_id LIKE e.source_id || '@%%')
         ), 0) AS value
  FROM crm_points_entry e
  WHERE e.tenant_id = %(tenant)s AND e.points > 0 AND e.kind IN ('earn', 'bonus', 'adjust')
"""

# What customers spent or lost: redemptions, deductions, earlier expiries.
DEBITS_SQL = """
  SELECT profile_id, -sum(points) AS amount FROM crm_points_entry
  WHERE tenant_id = %(tenant)s
    AND (kind IN ('redeem', 'expire') OR (kind = 'adjust' AND points < 0))
  GROUP BY profile_id
"""


def expire_points(tenant: Tenant, now: datetime | None = None) -> int:
    """Expire points as configured (``_expire``), and put the expiries on the timelines."""
    expired = _expire(tenant, now)
    events.record_points(tenant.pk, None, ("expire",))
    return expired


def _expire(tenant: Tenant, now: datetime | None = None) -> int:
    """Expire points as configured; returns how many points expired. Safe to run again.

    As the store's earning rules in force say. Per lot (``expiry_days``): a lot expires that
    many days after it became available, first in, first out: spending consumes the oldest lots
    first, so what expires is what is left of the expired lots once everything spent is taken
    from them. After inactivity (``inactivity_days``): a customer without an order for that
    long loses the available balance. One expiry entry per customer and day (per lot rule) or per
    period of inactivity, so a second run the same day adds nothing.
    """
    moment = now or timezone.now()
    rules = earning.rules_for(tenant)
    expired = 0
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "now": moment,
        "day": moment.date().isoformat(),
        "days": rules.expiry_days,
        "idle": rules.inactivity_days,
    }
    with transaction.atomic(), connection.cursor() as cur:
        if rules.expiry_days > 0:
            cur.execute(
                f"""
                WITH lots AS ({LOTS_SQL}),
                debits AS ({DEBITS_SQL}),
                due AS (
                  SELECT l.profile_id,
                         sum(l.value) FILTER (
                           WHERE l.available_at + make_interval(days => %(days)s) <= %(now)s
                         ) AS expired_lots
                  FROM lots l GROUP BY l.profile_id
                )
                INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source,
                  source_id, created_at, available_at, reason, actor, data)
                SELECT %(tenant)s, d.profile_id, 'expire',
                       -(d.expired_lots - coalesce(s.amount, 0)), 'expiry',
                       d.profile_id || ':' || %(day)s, %(now)s, %(now)s,
                       'points older than ' || %(days)s || ' days', '', '{{}}'::jsonb
                FROM due d LEFT JOIN debits s ON s.profile_id = d.profile_id
                WHERE d.expired_lots - coalesce(s.amount, 0) > 0
                ON CONFLICT (tenant_id, source, source_id, kind) DO NOTHING
                RETURNING -points
                """,
                params,
            )
            expired += sum(row[0] for row in cur.fetchall())
        if rules.inactivity_days > 0:
            cur.execute(
                """
                WITH last_order AS (
                  SELECT profile_id, max(created_at) AS at FROM crm_order
                  WHERE tenant_id = %(tenant)s AND profile_id IS NOT NULL
                  GROUP BY profile_id
                ),
                available AS (
                  SELECT profile_id, sum(points) AS points FROM crm_points_entry
                  WHERE tenant_id = %(tenant)s AND available_at <= %(now)s
                  GROUP BY profile_id
                )
                INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source,
                  source_id, created_at, available_at, reason, actor, data)
                SELECT %(tenant)s, a.profile_id, 'expire', -a.points, 'inactivity',
                       a.profile_id || ':' || to_char(o.at, 'YYYY-MM-DD"T"HH24:MI:SS'),
                       %(now)s, %(now)s, 'no order for ' || %(idle)s || ' days', '',
                       jsonb_build_object('last_order_at', o.at)
                FROM available a JOIN last_order o ON o.profile_id = a.profile_id
                WHERE a.points > 0 AND o.at + make_interval(days => %(idle)s) <= %(now)s
                ON CONFLICT (tenant_id, source, source_id, kind) DO NOTHING
                RETURNING -points
                """,
                params,
            )
            expired += sum(row[0] for row in cur.fetchall())
    return int(expired)


def grant_birthday_bonuses(tenant: Tenant, today: date | None = None) -> int:
    """Daily: the birthday bonus to customers whose birthday is today (29 February counts on
    the 28th in other years), once per customer and year. "Today" is the date in
    ``CRM_STORE_TIME_ZONE``, the clock the daily schedule runs on, not UTC's. Returns how many
    got it."""
    points = earning.rules_for(tenant).birthday_bonus
    if points <= 0:
        return 0
    day = today or timezone.localdate(timezone=ZoneInfo(crm_settings.STORE_TIME_ZONE))
    leap_day_today = day.month == 2 and day.day == 28 and not calendar.isleap(day.year)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source, source_id,
              created_at, available_at, reason, actor, data)
            SELECT b.tenant_id, b.profile_id, 'bonus', %(points)s, 'birthday',
                   b.profile_id || ':' || %(year)s, now(), now(), 'birthday bonus', '',
                   '{}'::jsonb
            FROM crm_birthday b
            WHERE b.tenant_id = %(tenant)s
              AND ((b.month = %(month)s AND b.day = %(day)s)
                   OR (%(leap)s AND b.month = 2 AND b.day = 29))
            ON CONFLICT (tenant_id, source, source_id, kind) DO NOTHING
            """,
            {
                "tenant": tenant.pk,
                "points": points,
                "year": day.year,
                "month": day.month,
                "day": day.day,
                "leap": leap_day_today,
            },
        )
        granted = cur.rowcount
    events.record_points(tenant.pk, None, ("bonus",))
    return int(granted)


def grant_feedback_bonus(tenant: Tenant, profile_id: int, feedback_id: str) -> PointsEntry | None:
    """The store's feedback bonus (earning rules) for one piece of feedback, available at once.

    Once per feedback, however often the feedback is saved, edited or its event replayed (the
    ledger's uniqueness rule on ("feedback", feedback id)); returns the bonus entry, or None
    when the bonus is off. A profile of another store is refused (Profile.DoesNotExist).
    """
    points = earning.rules_for(tenant).feedback_bonus
    if points <= 0:
        return None
    if not feedback_id.strip():
        raise ValueError("feedback needs an id to be rewarded once")
    profile = Profile.objects.get(pk=profile_id, tenant=tenant)
    now = timezone.now()
    entry, _created = PointsEntry.objects.get_or_create(
        tenant=tenant,
        source="feedback",
        source_id=feedback_id.strip(),
        kind=EntryKind.BONUS,
        defaults={
            "profile": profile,
            "points": points,
            "created_at": now,
            "available_at": now,
            "reason": "feedback bonus",
        },
    )
    events.record_points(tenant.pk, [profile.pk], ("bonus",))
    return entry

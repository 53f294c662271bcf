"""Tiers: who qualifies for which tier, as a dry run or applied, with one SQL statement.

A customer qualifies on spend in the base currency (net of refunds, at each order's FX rate, so
switching currency never games the program), on spend in their own channel currency where the
tiers give thresholds for it (``by_currency``), or on points, over a rolling window, the calendar
year or a lifetime. Each tier has an entry threshold and a (lower or equal) retention threshold:
reaching the entry of a higher tier moves a customer up at once; falling below the retention of
their tier starts a grace period, and only when it is over do they move down, to the tier their
amount still enters. The dry run and the apply run the very same statement at the same moment,
so applying moves exactly the customers the dry run listed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..money.currencies import is_known_currency, minor_units
from ..money.errors import MissingRate
from ..money.rates import RateBook
from ..payments.models import Membership
from ..profiles.events import NOT_PURCHASES
from ..profiles.models import Profile, TimelineEntry
from ..tenants.models import Tenant
from .models import TierProgram, TierStatus

logger = logging.getLogger(__name__)
# Stripe subscription statuses in which a paid membership holds its tier (past_due: Stripe is
# still retrying the payment).
MEMBER_STATUSES = ("active", "trialing", "past_due")
_WINDOW = re.compile(r"^(lifetime|calendar_year|rolling_days:([1-9]\d{0,3}))$")


class InvalidTierRules(ValueError):
    code = "invalid_tier_rules"


@dataclass(frozen=True)
class Tier:
    name: str
    entry: int  # minor units of the base currency, or points
    retain: int
    multiplier: Decimal = Decimal(1)  # points earned on orders, times this
    # Thresholds in a channel currency's minor units: ((currency, entry, retain), ...).
    by_currency: tuple[tuple[str, int, int], ...] = ()
    stripe_price: str = ""  # a Stripe recurring price: the tier can be bought as a membership


def _by_currency(raw: Any) -> tuple[tuple[str, int, int], ...]:
    if raw in (None, {}):
        return ()
    if not isinstance(raw, dict):
        raise TypeError('by_currency is {"JPY": {"entry": 80000, "retain": 64000}, ...}')
    found = []
    for code, limits in sorted(raw.items()):
        if not isinstance(limits, dict):
            raise TypeError(f'by_currency {code}: give {{"entry": ..., "retain": ...}}')
        entry = int(limits["entry"])
        retain = int(limits["retain"]) if "retain" in limits else entry
        found.append((str(code).upper(), entry, retain))
    return tuple(found)


@dataclass(frozen=True)
class TierRules:
    basis: str  # "spend" or "points"
    window: str  # "lifetime", "calendar_year" or "rolling_days:N"
    grace_days: int
    tiers: tuple[Tier, ...]  # lowest first

    @staticmethod
    def from_data(data: dict[str, Any]) -> TierRules:
        """Check rules a merchant wrote; InvalidTierRules says what is wrong."""
        try:
            tiers = tuple(
                Tier(
                    str(t["name"]).strip(),
                    int(t["entry"]),
                    int(t.get("retain", t["entry"])),
                    Decimal(str(t.get("multiplier", 1))),
                    by_currency=_by_currency(t.get("by_currency")),
                    stripe_price=str(t.get("stripe_price") or "").strip(),
                )
                for t in data["tiers"]
            )
            rules = TierRules(
                basis=str(data.get("basis", "spend")),
                window=str(data.get("window", "rolling_days:365")),
                grace_days=int(data.get("grace_days", 30)),
                tiers=tiers,
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise InvalidTierRules(f"Tier rules are incomplete or not numbers: {exc}") from exc
        rules.check()
        return rules

    def check(self) -> None:
        if self.basis not in ("spend", "points"):
            raise InvalidTierRules("basis is 'spend' or 'points'.")
        if not _WINDOW.match(self.window):
            raise InvalidTierRules("window is lifetime, calendar_year or rolling_days:N.")
        if self.grace_days < 0:
            raise InvalidTierRules("grace_days cannot be negative.")
        names = [t.name for t in self.tiers]
        if not self.tiers or any(not n for n in names) or len(set(names)) != len(names):
            raise InvalidTierRules("Give at least one tier, each with its own name.")
        entries = [t.entry for t in self.tiers]
        if entries != sorted(set(entries)) or entries[0] < 0:
            raise InvalidTierRules("Tiers go from the lowest entry up, each entry higher.")
        for tier in self.tiers:
            if not 0 <= tier.retain <= tier.entry:
                raise InvalidTierRules(f"{tier.name}: retain must be between 0 and its entry.")
            if not (tier.multiplier.is_finite() and 0 < tier.multiplier <= 10):
                raise InvalidTierRules(f"{tier.name}: multiplier must be above 0, at most 10.")
        self._check_currencies()
        prices = [t.stripe_price for t in self.tiers if t.stripe_price]
        if len(set(prices)) != len(prices):
            raise InvalidTierRules("Each Stripe price can sell one tier only.")

    @property
    def currencies(self) -> tuple[str, ...]:
        """Channel currencies with thresholds of their own (on every tier, once checked)."""
        return tuple(sorted({code for t in self.tiers for code, _, _ in t.by_currency}))

    def thresholds(self, currency: str) -> list[tuple[int, int]]:
        """(entry, retain) of each tier, lowest first, in ``currency`` ('' = the base)."""
        if not currency:
            return [(t.entry, t.retain) for t in self.tiers]
        return [next((e, r) for c, e, r in t.by_currency if c == currency) for t in self.tiers]

    def _check_currencies(self) -> None:
        codes = self.currencies
        if codes and self.basis != "spend":
            raise InvalidTierRules("by_currency thresholds are spend; this program counts points.")
        for code in codes:
            if not is_known_currency(code):
                raise InvalidTierRules(f"by_currency: {code} is not an ISO 4217 currency code.")
            missing = [t.name for t in self.tiers if code not in {c for c, _, _ in t.by_currency}]
            if missing:
                raise InvalidTierRules(
                    f"{code} thresholds are missing on {', '.join(missing)}: give them on every "
                    "tier, or on none."
                )
            entries = [e for e, _ in self.thresholds(code)]
            if entries != sorted(set(entries)) or entries[0] < 0:
                raise InvalidTierRules(f"{code}: tiers go from the lowest entry up, each higher.")
            for tier, (entry, retain) in zip(self.tiers, self.thresholds(code), strict=True):
                if not 0 <= retain <= entry:
                    raise InvalidTierRules(
                        f"{tier.name} in {code}: retain must be between 0 and its entry."
                    )

    def tier(self, name: str) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)

    def rank(self, name: str | None) -> int:
        """Position from the lowest (0); -1 for no tier or one these rules do not have."""
        names = [t.name for t in self.tiers]
        return names.index(name) if name in names else -1

    def as_data(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "window": self.window,
            "grace_days": self.grace_days,
            "tiers": [
                {
                    "name": t.name,
                    "entry": t.entry,
                    "retain": t.retain,
                    "multiplier": str(t.multiplier),
                    **(
                        {"by_currency": {c: {"entry": e, "retain": r} for c, e, r in t.by_currency}}
                        if t.by_currency
                        else {}
                    ),
                    **({"stripe_price": t.stripe_price} if t.stripe_price else {}),
                }
                for t in self.tiers
            ],
        }


@dataclass(frozen=True)
class Move:
    profile_id: int
    email: str
    from_tier: str | None
    to_tier: str | None
    amount: int
    currency: str = ""  # of a spend ``amount`` (the base or the customer's); '' for points


def status_of(profile: Profile) -> TierStatus | None:
    """The customer's tier status: from the profile when read with it, else one query."""
    try:
        return profile.tier
    except TierStatus.DoesNotExist:
        return None


def current_program(tenant: Tenant) -> TierProgram | None:
    return TierProgram.objects.filter(tenant=tenant).order_by("-version").first()


def save_rules(tenant: Tenant, rules: TierRules, *, by: str = "") -> TierProgram:
    """A new version of the rules; earlier versions stay as they were."""
    rules.check()
    with transaction.atomic():
        latest = current_program(tenant)
        return TierProgram.objects.create(
            tenant=tenant,
            version=(latest.version + 1) if latest else 1,
            rules=rules.as_data(),
            created_by=by,
        )


def _window_start(window: str) -> str:
    if window == "lifetime":
        return "'-infinity'::timestamptz"
    if window == "calendar_year":
        return "date_trunc('year', %(now)s::timestamptz)"
    return "%(now)s::timestamptz - make_interval(days => %(days)s)"


def _amount_sql(rules: TierRules, one_profile: bool = False) -> str:
    """Qualifying amount per profile as (id, amount, currency): spend net of refunds, or points.

    Spend is in the base currency (currency ''), except for a customer whose most recent order
    is in a currency the tiers have thresholds for: then every order in the window counts in
    that currency, its own amount if it was paid in it, else its base amount (fixed at the
    order's FX rate) converted at that currency's rate of the order's day (``day_rates``),
    never today's, so moving between channels gains nothing. Summed, then rounded down once.
    A customer with an order on a day without a rate for their currency counts in the base.
    """
    start = _window_start(rules.window)
    if rules.basis == "spend":
        only = "AND o.profile_id = %(profile)s" if one_profile else ""
        return f"""
          WITH homes AS (
            SELECT DISTINCT ON (o.profile_id) o.profile_id, o.currency
            FROM crm_order o
            WHERE o.tenant_id = %(tenant)s AND o.profile_id IS NOT NULL {only}
              AND o.status <> ALL(%(not_purchases)s) AND o.created_at <= %(now)s
            ORDER BY o.profile_id, o.created_at DESC, o.order_id DESC
          ),
          sums AS (
            SELECT o.profile_id AS id, h.currency AS home,
                   sum(o.total_gross_base_minor - o.refunded_base_minor) AS base_amount,
                   floor(sum(CASE WHEN o.currency = h.currency
                                  THEN o.total_gross_minor - o.refunded_minor
                                  ELSE (o.total_gross_base_minor - o.refunded_base_minor)
                                       * d.factor END)) AS own_amount,
                   bool_and(o.currency = h.currency OR d.factor IS NOT NULL) AS convertible
            FROM crm_order o
            LEFT JOIN homes h ON h.profile_id = o.profile_id
              AND h.currency = ANY(%(fx_currencies)s)
            LEFT JOIN unnest(%(fx_codes)s::text[], %(fx_days)s::date[], %(fx_factors)s::numeric[])
              AS d(code, day, factor)
              ON d.code = h.currency AND d.day = (o.created_at AT TIME ZONE 'UTC')::date
            WHERE o.tenant_id = %(tenant)s AND o.profile_id IS NOT NULL {only}
              AND o.status <> ALL(%(not_purchases)s)
              AND o.created_at >= {start} AND o.created_at <= %(now)s
            GROUP BY o.profile_id, h.currency
          )
          SELECT id,
                 CASE WHEN home IS NOT NULL AND convertible THEN own_amount
                      ELSE base_amount END AS amount,
                 CASE WHEN home IS NOT NULL AND convertible THEN home ELSE '' END AS currency
          FROM sums"""
    only = "AND e.profile_id = %(profile)s" if one_profile else ""
    return f"""
          SELECT e.profile_id AS id, sum(e.points) AS amount, '' AS currency
          FROM crm_points_entry e
          WHERE e.tenant_id = %(tenant)s {only}
            AND e.kind IN ('earn', 'reverse', 'void', 'bonus', 'hold', 'release')
            AND e.created_at >= {start} AND e.created_at <= %(now)s
          GROUP BY e.profile_id"""


def qualifying_amount(
    profile: Profile, rules: TierRules, now: datetime | None = None
) -> tuple[int, str]:
    """What one customer has towards the tiers right now, and its currency ('' = the base
    currency, or points): compare it with ``rules.thresholds(currency)``."""
    params = {**_params(profile.tenant, rules, now or timezone.now()), "profile": profile.pk}
    with connection.cursor() as cur:
        cur.execute(_amount_sql(rules, one_profile=True), params)
        row = cur.fetchone()
    return (int(row[1]), str(row[2])) if row else (0, "")


def _moves_sql(rules: TierRules) -> str:
    amount = _amount_sql(rules)
    return f"""
    WITH tiers AS (
      SELECT * FROM unnest(%(names)s::text[], %(entries)s::bigint[], %(retains)s::bigint[],
                           %(ranks)s::int[], %(currencies)s::text[])
        AS t(name, entry, retain, rank, currency)
    ),
    amounts AS ({amount}),
    customers AS (
      SELECT p.id, p.email, coalesce(a.amount, 0) AS amount, coalesce(a.currency, '') AS currency,
             s.tier, s.below_since, ct.rank AS cur_rank, ct.retain AS cur_retain
      FROM crm_profile p
      LEFT JOIN amounts a ON a.id = p.id
      LEFT JOIN crm_tier_status s ON s.profile_id = p.id
      LEFT JOIN tiers ct ON ct.name = s.tier AND ct.currency = coalesce(a.currency, '')
      WHERE p.tenant_id = %(tenant)s AND (a.id IS NOT NULL OR s.profile_id IS NOT NULL)
    ),
    entered AS (
      SELECT c.*, e.name AS entry_tier, coalesce(e.rank, -1) AS entry_rank
      FROM customers c
      LEFT JOIN LATERAL (
        SELECT name, rank FROM tiers WHERE entry <= c.amount AND currency = c.currency
        ORDER BY rank DESC LIMIT 1
      ) e ON TRUE
    ),
    computed AS (
      SELECT id, email, amount, currency, tier AS from_tier,
        CASE
          WHEN cur_rank IS NULL OR entry_rank >= cur_rank THEN entry_tier
          WHEN amount >= cur_retain THEN tier
          WHEN below_since IS NOT NULL
               AND below_since + make_interval(days => %(grace)s) <= %(now)s THEN entry_tier
          ELSE tier
        END AS to_tier,
        CASE  -- still in the tier, but below its retention: the grace period runs
          WHEN cur_rank IS NOT NULL AND entry_rank < cur_rank AND amount < cur_retain
               AND NOT (below_since IS NOT NULL
                        AND below_since + make_interval(days => %(grace)s) <= %(now)s)
            THEN coalesce(below_since, %(now)s::timestamptz)
        END AS below_since
      FROM entered
    ),
    paid AS (  -- a running paid membership holds its tier: nobody drops below it
      SELECT m.profile_id AS id, max(t.rank) AS rank
      FROM crm_membership m JOIN tiers t ON t.name = m.tier AND t.currency = ''
      WHERE m.tenant_id = %(tenant)s AND m.status = ANY(%(member_statuses)s)
      GROUP BY m.profile_id
    ),
    decided AS (
      SELECT c.id, c.email, c.amount, c.currency, c.from_tier,
        CASE WHEN p.rank >= coalesce(tt.rank, -1) THEN pt.name ELSE c.to_tier END AS to_tier,
        CASE WHEN p.rank >= coalesce(tt.rank, -1) THEN NULL ELSE c.below_since END
          AS below_since
      FROM computed c
      LEFT JOIN tiers tt ON tt.name = c.to_tier AND tt.currency = ''
      LEFT JOIN paid p ON p.id = c.id
      LEFT JOIN tiers pt ON pt.rank = p.rank AND pt.currency = ''
    )
    """


def _params(tenant: Tenant, rules: TierRules, now: datetime) -> dict[str, Any]:
    days = int(rules.window.split(":")[1]) if rules.window.startswith("rolling_days:") else 0
    ladders = [("", rules.thresholds(""))] + [(c, rules.thresholds(c)) for c in rules.currencies]
    params = {
        "tenant": tenant.pk,
        "now": now,
        "days": days,
        "grace": rules.grace_days,
        "not_purchases": list(NOT_PURCHASES),
        "names": [t.name for _ in ladders for t in rules.tiers],
        "entries": [entry for _, ladder in ladders for entry, _ in ladder],
        "retains": [retain for _, ladder in ladders for _, retain in ladder],
        "ranks": [rank for _ in ladders for rank in range(len(rules.tiers))],
        "currencies": [code for code, ladder in ladders for _ in ladder],
        "fx_currencies": list(rules.currencies),
        "member_statuses": list(MEMBER_STATUSES),
    }
    return {**params, **_day_rates(tenant, rules, now, days)}


def _day_rates(tenant: Tenant, rules: TierRules, now: datetime, days: int) -> dict[str, Any]:
    """For each currency with thresholds and each day with orders in the window: the factor
    turning base minor units into that currency's minor units at the rate in force at the
    start of the day (UTC). One row per day and currency, not per order: the orders are
    converted in SQL."""
    found: dict[str, list[Any]] = {"fx_codes": [], "fx_days": [], "fx_factors": []}
    if not rules.currencies:
        return found
    start = {
        "lifetime": datetime.min.replace(tzinfo=UTC),
        "calendar_year": datetime(now.year, 1, 1, tzinfo=now.tzinfo or UTC),
    }.get(rules.window, now - timedelta(days=days))
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM crm_order
            WHERE tenant_id = %s AND profile_id IS NOT NULL AND created_at >= %s
              AND created_at <= %s
            """,
            [tenant.pk, start, now],
        )
        order_days: list[date] = sorted(row[0] for row in cur.fetchall())
    if not order_days:
        return found
    base = tenant.base_currency
    moments = [datetime.combine(d, time(), tzinfo=UTC) for d in order_days]
    book = RateBook.load(base, rules.currencies, moments[0], moments[-1])
    for code in rules.currencies:
        digits = Decimal(10) ** (minor_units(code) - minor_units(base))
        for day, moment in zip(order_days, moments, strict=True):
            try:
                factor = digits / book.rate(code, moment)  # base units per one unit of code
            except MissingRate:
                continue
            found["fx_codes"].append(code)
            found["fx_days"].append(day)
            found["fx_factors"].append(factor)
    return found


def dry_run(
    tenant: Tenant,
    rules: TierRules,
    now: datetime | None = None,
    params: dict[str, Any] | None = None,
) -> list[Move]:
    """Who would change tier under ``rules`` at ``now``; changes nothing."""
    with connection.cursor() as cur:
        cur.execute(
            _moves_sql(rules)
            + """
            SELECT id, email, from_tier, to_tier, amount, currency FROM decided
            WHERE from_tier IS DISTINCT FROM to_tier ORDER BY id
            """,
            params or _params(tenant, rules, now or timezone.now()),
        )
        base = tenant.base_currency if rules.basis == "spend" else ""
        return [Move(r[0], r[1], r[2], r[3], int(r[4]), r[5] or base) for r in cur.fetchall()]


def apply(tenant: Tenant, program: TierProgram, now: datetime | None = None) -> list[Move]:
    """Move customers as ``dry_run`` says, start or clear grace periods, note it on timelines."""
    rules = TierRules.from_data(program.rules)
    moment = now or timezone.now()
    params = {**_params(tenant, rules, moment), "version": program.version}
    with transaction.atomic():
        moves = dry_run(tenant, rules, moment, params)  # the very same rates and statement
        with connection.cursor() as cur:
            cur.execute(
                _moves_sql(rules)
                + """
                , written AS (
                  INSERT INTO crm_tier_status (tenant_id, profile_id, tier, since, below_since,
                                               program_version)
                  SELECT %(tenant)s, id, to_tier, %(now)s, below_since, %(version)s
                  FROM decided WHERE to_tier IS NOT NULL
                  ON CONFLICT (profile_id) DO UPDATE SET
                    tier = EXCLUDED.tier,
                    since = CASE WHEN crm_tier_status.tier = EXCLUDED.tier
                                 THEN crm_tier_status.since ELSE EXCLUDED.since END,
                    below_since = EXCLUDED.below_since,
                    program_version = EXCLUDED.program_version
                  RETURNING 1
                )
                DELETE FROM crm_tier_status s USING decided d
                WHERE s.profile_id = d.id AND d.to_tier IS NULL
                """,
                params,
            )
            cur.execute(
                """
                INSERT INTO crm_timeline (tenant_id, profile_id, kind, occurred_at, subject_id,
                                          data, dedupe_key)
                SELECT %(tenant)s, m.id, 'crm.tier.changed', %(now)s, '',
                       jsonb_build_object('from', m.from_tier, 'to', m.to_tier,
                                          'program_version', %(version)s),
                       'tier:' || m.id || ':' || %(version)s || ':' || %(stamp)s
                FROM unnest(%(ids)s::bigint[], %(froms)s::text[], %(tos)s::text[])
                  AS m(id, from_tier, to_tier)
                ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
                """,
                {
                    "tenant": tenant.pk,
                    "now": moment,
                    "version": program.version,
                    "stamp": moment.isoformat(),
                    "ids": [m.profile_id for m in moves],
                    "froms": [m.from_tier for m in moves],
                    "tos": [m.to_tier for m in moves],
                },
            )
            cur.execute(
                "SELECT id, user_id FROM crm_profile WHERE id = ANY(%s) AND user_id IS NOT NULL",
                [[m.profile_id for m in moves]],
            )
            accounts = dict(cur.fetchall())
        changes = [
            (accounts[m.profile_id], m.to_tier or "") for m in moves if m.profile_id in accounts
        ]
        if changes:
            transaction.on_commit(lambda: _write_metadata_later(tenant.pk, changes))
        from .messages import announce_tier_changes  # messages builds on this module

        announce_tier_changes(tenant, moves, rules, moment)
    return moves


def _write_metadata_later(tenant_id: int, changes: list[tuple[str, str]]) -> None:
    from .tasks import write_tier_metadata

    try:
        write_tier_metadata.delay(tenant_id, changes)
    except Exception:  # a broker outage must not undo a committed tier change
        logger.warning("tier metadata for %s customers not queued", len(changes))


def settle_paid_tier(tenant: Tenant, profile_id: int, now: datetime | None = None) -> Move | None:
    """Bring one customer's tier in line with their paid memberships, at once.

    A running membership lifts them to its tier (never lowers a higher one they earned). When
    the last membership ends, a tier that only the membership held goes without a grace
    period, to what their spend or points enter; a tier they also qualify for by spending
    stays. The change goes on the timeline and into Saleor's private metadata, as ``apply``'s.
    """
    program = current_program(tenant)
    if program is None:
        return None
    rules = TierRules.from_data(program.rules)
    moment = now or timezone.now()
    with transaction.atomic():
        profile = Profile.objects.select_for_update().select_related("tenant").get(pk=profile_id)
        status = TierStatus.objects.filter(profile_id=profile_id).first()
        current = status.tier if status else None
        memberships = list(
            Membership.objects.filter(profile_id=profile_id).values_list("tier", "status")
        )
        running = [t for t, st in memberships if st in MEMBER_STATUSES and rules.tier(t)]
        amount, currency = qualifying_amount(profile, rules, moment)
        ladder = dict(zip([t.name for t in rules.tiers], rules.thresholds(currency), strict=True))
        if running:
            target: str | None = max(running, key=rules.rank)
            if rules.rank(current) >= rules.rank(target):
                return None
        else:
            ended = {t for t, st in memberships if st not in MEMBER_STATUSES}
            held = ladder.get(current) if current else None
            if held is None or current not in ended or amount >= held[1]:
                return None
            entered = [name for name, (entry, _) in ladder.items() if entry <= amount]
            target = entered[-1] if entered else None
        if target is None:
            TierStatus.objects.filter(profile_id=profile_id).delete()
        else:
            TierStatus.objects.update_or_create(
                profile_id=profile_id,
                defaults={
                    "tenant": tenant,
                    "tier": target,
                    "since": moment,
                    "below_since": None,
                    "program_version": program.version,
                },
            )
        TimelineEntry.objects.get_or_create(
            tenant=tenant,
            dedupe_key=f"tier:{profile_id}:membership:{moment.isoformat()}",
            defaults={
                "profile_id": profile_id,
                "kind": "crm.tier.changed",
                "occurred_at": moment,
                "data": {
                    "from": current,
                    "to": target,
                    "program_version": program.version,
                    "reason": "membership" if running else "membership_ended",
                },
            },
        )
        if profile.user_id:
            changes = [(profile.user_id, target or "")]
            transaction.on_commit(lambda: _write_metadata_later(tenant.pk, changes))
        base = tenant.base_currency if rules.basis == "spend" else ""
        move = Move(profile_id, profile.email, current, target, amount, currency or base)
        from .messages import announce_tier_changes

        announce_tier_changes(tenant, [move], rules, moment)
    return move

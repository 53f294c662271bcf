"""RFM scores, groups, quadrants, lifecycle stages and risk flags, computed set-based.

``recompute`` scores a whole store from the figures the inbox keeps on each profile (or, with
``from_orders``, one pass over its orders into a temporary table): the quintile boundaries, then
one read of every customer, which PostgreSQL may split between parallel workers, for those whose
figures moved, then one ``INSERT ... ON CONFLICT`` for them. ``refresh_scores`` scores the
profiles an inbox batch touched in one statement, with the boundaries of the last recompute, so
stages and flags stay fresh between nightly runs. Both are pure functions of the stored orders
and disputes (and ``now``), so replays and out-of-order deliveries cannot double-count.

Scores are ``ceil(5 * cume_dist)`` rather than ``ntile(5)``: equal values get equal scores
(``ntile`` splits ties at random), and the best customer of a store of three still scores 5.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db import connection, transaction

from ..conf import crm_settings
from ..profiles.events import NOT_PURCHASES, RETURNED
from ..tenants.models import Tenant
from .groups import PROSPECTS, group_case, quadrant_case
from .models import LifecycleSettings, ScoreBoundaries

Progress = Callable[[str, int, int], None]

# Two orders on one day must not make a customer "at risk" an hour later.
MIN_CADENCE_DAYS = 7
STEPS = ("purchases", "quintiles", "scores")
# Memory for the quintiles' sorts and the upsert's join (in memory rather than spilled to disk:
# PostgreSQL's default work_mem is 4 MB) ...
RECOMPUTE_WORK_MEM = "128MB"
# ... but the pass over the orders hashes every customer in small batches, spilled to disk: one
# hash table of every customer (86 MB at 200,000) missed the CPU caches so often that the pass
# cost half as much again (1.6 against 1.1 s CPU; the floor's GROUP BY 0.87 against 0.47 s).
ORDERS_WORK_MEM = "4MB"
INBOX_LOCK = 7321  # the advisory lock class inbox batches take per store


@dataclass(frozen=True)
class Lifecycle:
    mode: str  # "cadence" (multiples of the customer's gap) or "days"
    at_risk_after: Decimal
    dormant_after: Decimal
    lost_after: Decimal


def lifecycle_for(tenant: Tenant) -> Lifecycle:
    """The store's own thresholds, else the ``CRM_LIFECYCLE_*`` defaults."""
    own = LifecycleSettings.objects.filter(tenant=tenant).first()
    if own is not None:
        return Lifecycle(own.mode, own.at_risk_after, own.dormant_after, own.lost_after)
    return Lifecycle(
        "cadence",
        crm_settings.LIFECYCLE_AT_RISK_AFTER,
        crm_settings.LIFECYCLE_DORMANT_AFTER,
        crm_settings.LIFECYCLE_LOST_AFTER,
    )


# One scan of the store's orders, grouped by customer in one hash aggregate (no sort, no
# window): every figure, and the first and last purchase for the cadence. A customer's cadence is
# their mean gap between consecutive purchases, which is (last - first) / (purchases - 1);
# cancelled orders are not visits. (The purchase test is written into each FILTER: computing it
# once in a subquery cost a projection of every order, more than testing it again.) Disputes reach
# orders through the GIN index on their PSP references, one probe per dispute.
_PURCHASE = "o.status <> ALL(%(not_purchases)s)"
_DISPUTES = """disputes AS (
  SELECT o.profile_id, count(DISTINCT d.dispute_id) AS n,
         count(DISTINCT d.dispute_id) FILTER (WHERE d.stage = 'lost') AS lost
  FROM crm_stripe_dispute d
  JOIN crm_order o ON o.tenant_id = d.tenant_id
   AND o.psp_references && array_remove(ARRAY[d.payment_intent, d.charge_id], '')::varchar[]
  WHERE d.tenant_id = %(tenant)s AND o.profile_id IS NOT NULL {only_orders}
  GROUP BY o.profile_id
)"""


def _cadence(n: str, first: str, last: str) -> str:
    """The mean gap in days between ``n`` purchases from the first to the last (none for one)."""
    return (
        f"CASE WHEN {n} > 1 THEN (extract(epoch FROM {last} - {first}) / 86400.0 / ({n} - 1))"
        "::float8 END"
    )


def _cadence_near(n: str, first: str, last: str) -> str:
    """The same in float8 arithmetic, within 1e-10 days of it for any date of this era: cheap
    enough for every customer, where the exact figure (numeric division, then a cast through
    text) is computed only where the estimate cannot decide."""
    return (
        f"CASE WHEN {n} > 1 THEN (date_part('epoch', {last}) - date_part('epoch', {first}))"
        f" / 86400 / ({n} - 1) END"
    )


# A row of the input: purchases n, first_at and last_at give the cadence.
CADENCE = _cadence("n", "first_at", "last_at")
CADENCE_NEAR = _cadence_near("n", "first_at", "last_at")


_INPUT = """
CREATE TEMP TABLE crm_tmp_score_input ON COMMIT DROP AS
WITH per_profile AS (
  SELECT o.profile_id,
         count(*) FILTER (WHERE {purchase}) AS n,
         min(o.created_at) FILTER (WHERE {purchase}) AS first_at,
         max(o.created_at) FILTER (WHERE {purchase}) AS last_at,
         sum(o.total_gross_base_minor) FILTER (WHERE {purchase}) AS gross,
         sum(o.refunded_base_minor) FILTER (WHERE {purchase}) AS refunded,
         -- returned orders are purchases
         count(*) FILTER (WHERE o.status = ANY(%(returned)s)) AS returned,
         count(*) FILTER (WHERE o.status = 'CANCELED') AS cancelled
  FROM crm_order o
  WHERE o.tenant_id = %(tenant)s AND o.profile_id IS NOT NULL {only_orders}
  GROUP BY o.profile_id
),
{disputes}
SELECT p.id AS profile_id, COALESCE(s.n, 0) AS n, s.last_at, COALESCE(s.gross, 0) AS gross,
       COALESCE(s.refunded, 0) AS refunded, COALESCE(s.returned, 0) AS returned,
       s.first_at, COALESCE(s.cancelled, 0) AS cancelled, COALESCE(d.n, 0) AS disputes,
       COALESCE(d.lost, 0) AS disputes_lost
FROM crm_profile p
LEFT JOIN per_profile s ON s.profile_id = p.id
LEFT JOIN disputes d ON d.profile_id = p.id
WHERE p.tenant_id = %(tenant)s {only_profiles}
"""

# The whole store's input without reading an order: the inbox keeps every figure above on the
# profile, recomputed from the orders of each customer a batch touches (profiles/aggregates.py,
# the same purchase test, base amounts and statuses), so the nightly scoring reads one row per
# customer instead of every order again. ``recompute(..., from_orders=True)`` reads the orders
# (``_INPUT``); tests check that both give the same scores. Read where it is used (a subquery,
# not a temporary table): PostgreSQL's parallel workers can read the profiles but not a
# temporary table, and the quintiles and the comparison with the stored scores both read it.
_KEPT_ROWS = """(
WITH {disputes}
SELECT p.id AS profile_id, p.orders_count AS n, p.last_order_at AS last_at,
       p.spent_gross_minor AS gross, p.refunded_minor AS refunded,
       p.returned_orders_count AS returned,
       p.first_order_at AS first_at, p.cancelled_orders_count AS cancelled,
       COALESCE(d.n, 0) AS disputes, COALESCE(d.lost, 0) AS disputes_lost
FROM crm_profile p
LEFT JOIN disputes d ON d.profile_id = p.id
WHERE p.tenant_id = %(tenant)s
)""".format(
    disputes=_DISPUTES.format(only_orders=""),
)
_TEMP_ROWS = "crm_tmp_score_input"

# The figures scored, as float8 from a row of crm_tmp_score_input: the last purchase (Unix
# seconds), the purchases, their value net of refunds. Derived where they are read rather than
# stored: a narrower temporary table is cheaper to write than these are to compute again.
R_VALUE = "date_part('epoch', last_at)"
F_VALUE = "n::float8"
M_VALUE = "(gross - refunded)::float8"

# Per dimension, the values where the score steps up, and the store's median of customers'
# cadences: one scan of the customers and one sort per figure. ``percentile_disc`` picks the
# value at a position (``_steps`` says which); ranking every customer with ``cume_dist`` in three
# windows and grouping them again cost three times as much for the same four values.
_QUINTILES = f"""
SELECT percentile_disc(%(at)s::float8[]) WITHIN GROUP (ORDER BY {R_VALUE}) FILTER (WHERE n > 0),
       percentile_disc(%(at)s::float8[]) WITHIN GROUP (ORDER BY {F_VALUE}) FILTER (WHERE n > 0),
       percentile_disc(%(at)s::float8[]) WITHIN GROUP (ORDER BY {M_VALUE}) FILTER (WHERE n > 0),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY {CADENCE})
FROM {{rows}} i
"""


def _steps(count: int) -> list[int]:
    """The positions (from 1) in ``count`` sorted values of the first value scoring 2, 3, 4
    and 5: the least k with ``ceil(5 * k / count) >= score``, in float8 arithmetic as
    PostgreSQL computes ``ceil(5 * cume_dist())`` (Python floats are the same doubles), so
    the boundaries are exactly those of ranking every customer."""
    steps = []
    k = 1
    for score in range(2, 6):
        # Below (score - 1) * count / 5 - 1 no k can reach the score, whatever the rounding.
        k = max(k, (score - 1) * count // 5 - 1)
        while math.ceil(5 * (k / count)) < score:
            k += 1
        steps.append(k)
    return steps


def _score(value: str, bounds: str) -> str:
    """1 plus how many of the four boundaries the value reaches (none when there are none).
    ``width_bucket`` counts them by binary search in the sorted boundaries: one call, where four
    comparisons summed cost the upsert 0.13 s CPU more per 200,000 customers."""
    return f"(1 + width_bucket({value}, {bounds}::float8[]))"


# The figures compared to decide whether a customer moved (``changed_at`` is not one of them).
_FIGURES = (
    "recency, frequency, monetary, rfm_group, quadrant, stage, cadence_days, purchases, "
    "value_minor, last_purchase_at, refund_rate, return_rate, cancelled_orders, disputes, "
    "disputes_lost, risk_flags"
)


def _figures(alias: str, but: str = "") -> str:
    return "(" + ", ".join(f"{alias}.{c}" for c in _FIGURES.split(", ") if c != but) + ")"


# What the stage is measured in: a day, or the customer's cadence (the store's when they have
# none), at least MIN_CADENCE_DAYS.
_UNIT = (
    "CASE WHEN %(mode)s = 'days' THEN 1 "
    f"ELSE greatest(COALESCE({{}}, %(store_cadence)s), {MIN_CADENCE_DAYS}) END"
)
_UNIT_NEAR = _UNIT.format(CADENCE_NEAR)
_UNIT = _UNIT.format(CADENCE)


def _past(times: str) -> str:
    """Whether the last purchase is more than ``times`` units (the customer's cadence, or a
    day) ago: days since it, an exact numeric cast to float8, against the float8 threshold.
    Decided first by a float8 estimate of the days (within 1e-9 days of the exact figure for
    any date of this era), and computed exactly only within a millionth of a day of the
    threshold: the numeric division and its cast cost more than the rest of the stage."""
    near = f"{times} * unit_near"
    margin = f"1e-6 * (1 + abs({near}))"
    exact = f"extract(epoch FROM %(now)s - last_at) / 86400.0 > {times} * {_UNIT}"
    return (
        f"CASE WHEN days_near - {near} > {margin} THEN true "
        f"WHEN days_near - {near} < -{margin} THEN false ELSE {exact} END"
    )


# Every customer's figures as of now (``{rows}``: the kept figures or the temporary input).
_SCORED = """
WITH scored AS (
SELECT profile_id, %(tenant)s::bigint AS tenant_id, r AS recency, f AS frequency,
  m AS monetary,
  CASE WHEN n = 0 THEN '{prospects}' WHEN r IS NULL THEN '' ELSE {group} END AS rfm_group,
  CASE WHEN n = 0 OR r IS NULL THEN '' ELSE {quadrant} END AS quadrant,
  CASE WHEN n = 0 THEN ''
       WHEN {lost} THEN 'lost'
       WHEN {dormant} THEN 'dormant'
       WHEN {at_risk} THEN 'at_risk'
       WHEN n = 1 THEN 'new' ELSE 'active' END AS stage,
  CASE WHEN n = 0 THEN NULL ELSE round(({cadence})::numeric, 2) END AS cadence_days,
  CASE WHEN n = 0 THEN NULL ELSE {cadence_near} END AS cadence_float,
  n AS purchases, gross - refunded AS value_minor, last_at AS last_purchase_at, refund_rate,
  return_rate, cancelled AS cancelled_orders, disputes, disputes_lost,
  -- Most customers have no flag: their empty list is a constant, not an array built, stripped
  -- of nulls and cast element by element.
  CASE WHEN n > 0 AND (refund_rate >= %(refund_limit)s OR return_rate >= %(return_limit)s)
         OR disputes > 0 OR cancelled >= %(cancel_limit)s
  THEN array_remove(ARRAY[
    CASE WHEN n > 0 AND refund_rate >= %(refund_limit)s THEN 'refunds' END,
    CASE WHEN n > 0 AND return_rate >= %(return_limit)s THEN 'returns' END,
    CASE WHEN disputes > 0 THEN 'disputes' END,
    CASE WHEN disputes_lost > 0 THEN 'dispute_lost' END,
    CASE WHEN cancelled >= %(cancel_limit)s THEN 'cancellations' END
  ], NULL)::varchar(32)[] ELSE '{{{{}}}}'::varchar(32)[] END AS risk_flags,
  %(now)s::timestamptz AS changed_at
FROM (
  SELECT i.*,
    CASE WHEN %(scored)s AND n > 0 THEN {r} END AS r,
    CASE WHEN %(scored)s AND n > 0 THEN {f} END AS f,
    CASE WHEN %(scored)s AND n > 0 THEN {m} END AS m,
    (date_part('epoch', %(now)s::timestamptz) - {r_value}) / 86400 AS days_near,
    {unit_near} AS unit_near,
    -- no division (numeric, slow) when there is nothing to divide
    CASE WHEN refunded <> 0 AND gross > 0 THEN round(refunded::numeric / gross, 4) ELSE 0 END
      AS refund_rate,
    CASE WHEN returned > 0 AND n > 0 THEN round(returned::numeric / n, 4) ELSE 0 END
      AS return_rate,
    -- A set-returning function keeps the planner from folding this subquery into its readers,
    -- so r, f and m are computed once per row (the CASEs above read them many times), and,
    -- unlike OFFSET 0, lets parallel workers run it.
    generate_series(1, 1) AS once
  FROM {{rows}} i
) x
)
""".format(
    prospects=PROSPECTS,
    lost=_past("%(lost)s"),
    dormant=_past("%(dormant)s"),
    at_risk=_past("%(at_risk)s"),
    r_value=R_VALUE,
    group=group_case("r", "f", "m"),
    quadrant=quadrant_case("r", "f", "m"),
    r=_score(R_VALUE, "%(r_bounds)s"),
    f=_score(F_VALUE, "%(f_bounds)s"),
    m=_score(M_VALUE, "%(m_bounds)s"),
    cadence=CADENCE,
    cadence_near=CADENCE_NEAR,
    unit_near=_UNIT_NEAR,
)

# Customers whose figures are what they were are left out before the upsert, in one hash
# join: ON CONFLICT locks (so writes) every row it meets, even one its WHERE then skips.
_COLUMNS = "profile_id, tenant_id, " + _FIGURES + ", changed_at"
_MOVED = """
SELECT {columns} FROM scored fresh
LEFT JOIN crm_customer_scores old ON old.profile_id = fresh.profile_id
WHERE {old} IS DISTINCT FROM {new}
  -- The cadence last, and as a numeric only where it may have moved: converting every
  -- customer's float8 cadence to a numeric costs more than the other figures together. A
  -- float8 within 0.0049 of the stored value rounds to it (the cast keeps 15 digits).
  OR NOT COALESCE(abs(fresh.cadence_float - old.cadence_days::float8) < 0.0049, false)
     AND old.cadence_days IS DISTINCT FROM fresh.cadence_days
""".format(
    columns=", ".join(f"fresh.{c}" for c in _COLUMNS.split(", ")),
    old=_figures("old", but="cadence_days"),
    new=_figures("fresh", but="cadence_days"),
)

_INSERT = """
INSERT INTO crm_customer_scores AS cs (profile_id, tenant_id, recency, frequency, monetary,
  rfm_group, quadrant, stage, cadence_days, purchases, value_minor, last_purchase_at,
  refund_rate, return_rate, cancelled_orders, disputes, disputes_lost, risk_flags, changed_at)
"""
_ON_CONFLICT = """
ON CONFLICT (profile_id) DO UPDATE SET
  recency = EXCLUDED.recency, frequency = EXCLUDED.frequency, monetary = EXCLUDED.monetary,
  rfm_group = EXCLUDED.rfm_group, quadrant = EXCLUDED.quadrant, stage = EXCLUDED.stage,
  cadence_days = EXCLUDED.cadence_days, purchases = EXCLUDED.purchases,
  value_minor = EXCLUDED.value_minor, last_purchase_at = EXCLUDED.last_purchase_at,
  refund_rate = EXCLUDED.refund_rate, return_rate = EXCLUDED.return_rate,
  cancelled_orders = EXCLUDED.cancelled_orders, disputes = EXCLUDED.disputes,
  disputes_lost = EXCLUDED.disputes_lost, risk_flags = EXCLUDED.risk_flags,
  changed_at = EXCLUDED.changed_at
-- A customer whose figures are what they were is not rewritten: a nightly recompute then
-- writes only the customers who moved, which is most of its cost otherwise.
WHERE {old} IS DISTINCT FROM {new}
""".format(old=_figures("cs"), new=_figures("EXCLUDED"))

# One statement for a few customers (an inbox batch): score, leave out the unchanged, upsert.
_UPSERT = _SCORED + _INSERT + _MOVED + _ON_CONFLICT

# The full recompute in two: the customers who moved, found by one read of every customer that
# PostgreSQL may split between parallel workers (``CREATE TABLE AS`` may run its query in
# parallel; an ``INSERT`` may not), then the upsert of those few rows. The upsert stays one
# statement, so its stage-change triggers record each move once.
_STAGE_MOVED = "CREATE TEMP TABLE crm_tmp_scores_moved ON COMMIT DROP AS" + _SCORED + _MOVED
_UPSERT_MOVED = _INSERT + f"SELECT {_COLUMNS} FROM crm_tmp_scores_moved" + _ON_CONFLICT


def _build_input(tenant: Tenant, profile_ids: list[int] | None) -> None:
    """The temporary input (``_TEMP_ROWS``) from the stored orders: of these profiles, or of
    every customer of the store (``None``)."""
    only = profile_ids is not None
    only_orders = "AND o.profile_id = ANY(%(ids)s::bigint[])" if only else ""
    sql = _INPUT.format(
        purchase=_PURCHASE,
        only_orders=only_orders,
        only_profiles="AND p.id = ANY(%(ids)s::bigint[])" if only else "",
        disputes=_DISPUTES.format(only_orders=only_orders),
    )
    with connection.cursor() as cur:
        if not only:
            cur.execute(f"SET LOCAL work_mem = '{ORDERS_WORK_MEM}'")
        cur.execute("DROP TABLE IF EXISTS crm_tmp_score_input")
        cur.execute(
            sql,
            {
                "tenant": tenant.pk,
                "ids": profile_ids or [],
                "not_purchases": list(NOT_PURCHASES),
                "returned": list(RETURNED),
            },
        )
        if not only:
            cur.execute(f"SET LOCAL work_mem = '{RECOMPUTE_WORK_MEM}'")


def _upsert(
    tenant: Tenant,
    now: datetime,
    boundaries: ScoreBoundaries | None,
    lifecycle: Lifecycle,
    rows: str = _TEMP_ROWS,
    staged: bool = False,
) -> int:
    """Write the scores of the customers of ``rows`` who moved; returns how many. ``staged``
    (the full recompute) finds them first in a read PostgreSQL may run in parallel."""
    store_cadence = boundaries.store_cadence_days if boundaries else None
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "now": now,
        "scored": boundaries is not None,
        "r_bounds": boundaries.recency if boundaries else [],
        "f_bounds": boundaries.frequency if boundaries else [],
        "m_bounds": boundaries.monetary if boundaries else [],
        "store_cadence": store_cadence or crm_settings.LIFECYCLE_DEFAULT_CADENCE_DAYS,
        "mode": lifecycle.mode,
        "at_risk": lifecycle.at_risk_after,
        "dormant": lifecycle.dormant_after,
        "lost": lifecycle.lost_after,
        "refund_limit": crm_settings.RISK_REFUND_RATE,
        "return_limit": crm_settings.RISK_RETURN_RATE,
        "cancel_limit": crm_settings.RISK_CANCELLED_ORDERS,
    }
    with connection.cursor() as cur:
        if not staged:
            cur.execute(_UPSERT.format(rows=rows), params)
            return cur.rowcount
        cur.execute("DROP TABLE IF EXISTS crm_tmp_scores_moved")
        cur.execute(_STAGE_MOVED.format(rows=rows), params)
        cur.execute(_UPSERT_MOVED)
        return cur.rowcount


def _allow_parallel(workers: int) -> None:
    """Let this transaction's reads of every customer run in up to ``workers`` parallel
    workers (PostgreSQL's default plans them for none of this recompute's statements: it
    prices passing each row from a worker above computing it)."""
    with connection.cursor() as cur:
        cur.execute(f"SET LOCAL max_parallel_workers_per_gather = {int(workers)}")
        if workers:
            cur.execute("SET LOCAL parallel_setup_cost = 0")
            cur.execute("SET LOCAL parallel_tuple_cost = 0.001")


Quantiles = tuple[list[float] | None, list[float] | None, list[float] | None, float | None]
# Around each of the last recompute's boundaries, the share of the spread between the lowest and
# the highest (R and M) or of the store's cadence within which the new one is first looked for.
QUINTILE_WINDOW = 0.01
CADENCE_WINDOW = 0.003


def _quantiles(tenant: Tenant, rows: str, previous: ScoreBoundaries | None) -> Quantiles:
    """The quintile boundaries of R, F and M and the store's median cadence: from the last
    recompute's boundaries when the new ones are near them (the nightly case), else by
    sorting every customer (``_QUINTILES``). The same values either way."""
    if rows != _TEMP_ROWS and previous is not None:
        near = _quantiles_near(tenant, rows, previous)
        if near is not None:
            return near
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {rows} i WHERE n > 0", {"tenant": tenant.pk})
        buyers = cur.fetchone()[0]  # type: ignore[index]
        # Halfway between positions, so percentile_disc's ceil(fraction * count) is exact.
        at = [(k - 0.5) / buyers for k in _steps(buyers)] if buyers else [1.0]
        cur.execute(_QUINTILES.format(rows=rows), {"at": at, "tenant": tenant.pk})
        return cur.fetchone()  # type: ignore[return-value]


def _quantiles_near(tenant: Tenant, rows: str, previous: ScoreBoundaries) -> Quantiles | None:
    """The same values as ``_QUINTILES`` without sorting every customer; None when they are
    not all within windows around the previous ones.

    ``percentile_disc`` at ``(k - 0.5) / buyers`` is the value at position
    ``max(1, ceil(fraction * values))`` in ascending order, ``percentile_cont(0.5)`` the two
    middle values interpolated; a value at position p is the (p - under)th of the values
    within a window when ``under`` values lie below the window and p falls inside it. One
    grouped pass, which PostgreSQL may split between parallel workers, counts the customers
    per number of purchases (which orders F) and per window of R, M and the cadence each falls
    in or between (``width_bucket``, one binary search per figure); a second fetches the few
    values inside the windows, sorted here (Python floats compare as float8). Sorting every
    customer's R, M and cadence in one process cost 1-2 s at 1,000,000 customers."""
    if previous.store_cadence_days is None or any(
        len(bounds) != 4 for bounds in (previous.recency, previous.frequency, previous.monetary)
    ):
        return None
    thresholds: dict[str, list[float]] = {}
    for key, bounds in (("r", previous.recency), ("m", previous.monetary)):
        width = (bounds[3] - bounds[0]) * QUINTILE_WINDOW
        # Window j holds lo <= value <= hi: buckets 2j + 1 of width_bucket (from 0 below all).
        edges = [e for b in bounds for e in (b - width, math.nextafter(b + width, math.inf))]
        if any(a >= b for a, b in pairwise(edges)):
            return None
        thresholds[key] = edges
    store = float(previous.store_cadence_days)
    c_lo, c_hi = (
        store - max(store * CADENCE_WINDOW, 0.01),
        store + max(store * CADENCE_WINDOW, 0.01),
    )
    # The estimate is within 1e-10 days of the exact cadence (_cadence_near): beyond eps of the
    # window's edges it decides; within, the exact cadence does.
    eps = 1e-6 * (1 + abs(store))
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "rth": thresholds["r"],
        "mth": thresholds["m"],
        "nth": [c_lo - eps, c_lo + eps, c_hi - eps, c_hi + eps],
        "cth": [c_lo, math.nextafter(c_hi, math.inf)],
    }
    bucketed = f"""(
SELECT n, {R_VALUE} AS rv, {M_VALUE} AS mv, first_at, last_at,
  CASE WHEN n > 0 THEN width_bucket({R_VALUE}, %(rth)s::float8[]) END AS rb,
  CASE WHEN n > 0 THEN width_bucket({M_VALUE}, %(mth)s::float8[]) END AS mb,
  CASE width_bucket({CADENCE_NEAR}, %(nth)s::float8[]) WHEN 0 THEN 0 WHEN 2 THEN 1 WHEN 4 THEN 2
    ELSE width_bucket({CADENCE}, %(cth)s::float8[]) END AS cb
FROM {rows} i) b"""
    with connection.cursor() as cur:
        cur.execute(f"SELECT n, rb, mb, cb, count(*) FROM {bucketed} GROUP BY 1, 2, 3, 4", params)
        groups = cur.fetchall()
    buyers = sum(many for n, _, _, _, many in groups if n is not None and n > 0)
    if not buyers:
        return None
    at = [(k - 0.5) / buyers for k in _steps(buyers)]
    # F: the purchases of the buyer at each position, from how many buyers made each number.
    ladder: dict[int, int] = {}
    for n, _, _, _, many in groups:
        if n is not None and n > 0:
            ladder[n] = ladder.get(n, 0) + many
    f_bounds = [float(_nth(sorted(ladder.items()), max(1, math.ceil(a * buyers)))) for a in at]
    # R, M and the cadence: the position wanted in each window, after the values below it.
    wanted: list[tuple[str, int, int, int]] = []  # figure, bucket, position in it, its values
    for key, index in (("r", 1), ("m", 2)):
        values = sum(g[4] for g in groups if g[index] is not None)
        for j, fraction in enumerate(at):
            below = sum(g[4] for g in groups if g[index] is not None and g[index] <= 2 * j)
            upto = sum(g[4] for g in groups if g[index] is not None and g[index] <= 2 * j + 1)
            position = max(1, math.ceil(fraction * values))
            if not below < position <= upto:
                return None
            wanted.append((key, 2 * j + 1, position - below, upto - below))
    cadenced = sum(g[4] for g in groups if g[3] is not None)
    middle = 0.5 * (cadenced - 1)
    first, second = math.floor(middle), math.ceil(middle)  # from 0, as percentile_cont counts
    if cadenced:
        below = sum(g[4] for g in groups if g[3] == 0)
        upto = sum(g[4] for g in groups if g[3] is not None and g[3] <= 1)
        if not below <= first <= second < upto:
            return None
        wanted += [(k, 1, p - below + 1, upto - below) for k, p in (("c", first), ("c", second))]
    # The few values inside the windows, in a second pass.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT rb, CASE WHEN rb %% 2 = 1 THEN rv END, mb, CASE WHEN mb %% 2 = 1 THEN mv END,"
            f" cb, CASE WHEN cb = 1 THEN {CADENCE} END FROM {bucketed}"
            " WHERE rb %% 2 = 1 OR mb %% 2 = 1 OR cb = 1",
            params,
        )
        inside = cur.fetchall()
    column = {"r": 0, "m": 2, "c": 4}
    picked: dict[str, list[float]] = {"r": [], "m": [], "c": []}
    for key, bucket, position, held in wanted:
        at_column = column[key]
        values = sorted(row[at_column + 1] for row in inside if row[at_column] == bucket)
        if len(values) != held:  # a profile changed between the two passes (not the inbox's)
            return None
        picked[key].append(values[position - 1])
    cadence = None
    if cadenced:
        low, high = picked["c"]
        # percentile_cont's interpolation, in the same float8 arithmetic.
        cadence = low + ((middle - first) * (high - low)) if second > first else low
    return picked["r"], f_bounds, picked["m"], cadence


def _nth(counted: list[tuple[Any, int]], position: int) -> Any:
    """The value at ``position`` (from 1) of values in ascending order, each with its count."""
    seen = 0
    for value, many in counted:
        seen += many
        if seen >= position:
            return value
    raise ValueError(position)


def recompute(
    tenant: Tenant, now: datetime, progress: Progress | None = None, from_orders: bool = False
) -> int:
    """Score every customer of the store as of ``now``; returns how many profiles' figures
    changed (all of them the first time).

    The figures come from what the inbox keeps on each profile (``_KEPT_ROWS``), or, with
    ``from_orders``, from every stored order again (``saleor-crm recompute --from-orders``:
    the same scores, at the cost of a pass over all orders).

    Atomic: readers see the old scores or the new ones, never a mix (parallel workers, when
    the reads use them, work inside this one transaction). New quintile boundaries are kept
    for ``refresh_scores``. Safe to run at any time and any number of times.
    """
    report = progress or (lambda step, done, total: None)
    with transaction.atomic():
        # The inbox's per-store lock (inbox/services.py process_batch): an inbox batch re-scores
        # its customers too, and two writers upserting overlapping rows in different orders
        # could deadlock. Batches of this store wait for the recompute (seconds), then apply.
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INBOX_LOCK, tenant.pk])
            # JIT compiling the statements cost more than it saved (as for the reports,
            # kpis/sql.py). For this transaction only.
            cur.execute("SET LOCAL jit = off")
        report("purchases", 0, len(STEPS))
        if from_orders:
            _build_input(tenant, None)
            rows = _TEMP_ROWS
        else:
            rows = _KEPT_ROWS
            with connection.cursor() as cur:
                cur.execute(f"SET LOCAL work_mem = '{RECOMPUTE_WORK_MEM}'")
            _allow_parallel(crm_settings.RECOMPUTE_PARALLEL_WORKERS)
        report("quintiles", 1, len(STEPS))
        previous = ScoreBoundaries.objects.filter(tenant=tenant).first()
        r_bounds, f_bounds, m_bounds, cadence = _quantiles(tenant, rows, previous)
        bounds = {"r": r_bounds or [], "f": f_bounds or [], "m": m_bounds or []}
        boundaries, _ = ScoreBoundaries.objects.update_or_create(
            tenant=tenant,
            defaults={
                "recency": bounds["r"],
                "frequency": bounds["f"],
                "monetary": bounds["m"],
                "store_cadence_days": (
                    Decimal(str(round(cadence, 2))) if cadence is not None else None
                ),
                "computed_at": now,
            },
        )
        report("scores", 2, len(STEPS))
        # A store's first recompute writes every customer: staging them all in a temporary
        # table first would write each row twice (200,000 customers: 10.3-12.1 s against
        # 9.6-10.0 s in one statement).
        with connection.cursor() as cur:
            cur.execute(
                "SELECT EXISTS (SELECT 1 FROM crm_customer_scores WHERE tenant_id = %s)",
                [tenant.pk],
            )
            staged = bool(cur.fetchone()[0])  # type: ignore[index]
        scored = _upsert(tenant, now, boundaries, lifecycle_for(tenant), rows, staged)
        report("done", len(STEPS), len(STEPS))
    return scored


def refresh_scores(tenant: Tenant, profile_ids: Iterable[int], now: datetime) -> int:
    """Re-score these profiles against the last recompute's boundaries (their stage and risk
    flags are exact; a store never recomputed gets stages and flags but no RFM scores yet).
    Returns how many changed."""
    ids = sorted({i for i in profile_ids if i is not None})
    if not ids:
        return 0
    with transaction.atomic():
        _build_input(tenant, ids)
        boundaries = ScoreBoundaries.objects.filter(tenant=tenant).first()
        return _upsert(tenant, now, boundaries, lifecycle_for(tenant))

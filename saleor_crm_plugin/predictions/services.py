"""Next-order date, churn risk and 12-month value for every customer of a store, set-based.

One SQL statement reduces the store's orders to per-customer statistics (repeat purchase days
``x``, ``t_x``, age ``T``, mean order value). SQL ``GROUP BY`` compresses them into distinct
buckets, BG/NBD and Gamma-Gamma are fitted over the buckets in Python (``fitting.py``), and one
``INSERT ... ON CONFLICT`` scores every customer: P(alive) in its closed form in SQL, the
expected purchases' 2F1 part computed once per distinct (x, T in days) and joined in.

A store with too little history (``CRM_PREDICTION_MIN_REPEAT_CUSTOMERS``,
``CRM_PREDICTION_MIN_HISTORY_DAYS``) gets the cadence heuristic instead; the method used is
recorded per store and per customer (docs/predictions.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from ..conf import crm_settings
from ..profiles.events import NOT_PURCHASES
from ..segments.scores import INBOX_LOCK
from ..tenants.models import Tenant
from .fitting import BGNBD, GammaGamma, expected_if_alive, fit_bgnbd, fit_gamma_gamma
from .models import PredictionModel

HORIZON_DAYS = 365  # "12-month value"
FIT_UNIT_DAYS = 7.0  # buckets in whole weeks: a few thousand rows for any store
MIN_GAP_DAYS = 7  # as the lifecycle's cadence: two orders on one day are not a weekly habit
MAX_WAIT_DAYS = 3650
BGNBD_METHOD = "bgnbd"
HEURISTIC = "heuristic"

# Per customer: x, t_x, T (days), last purchase, mean value. Into a temporary table for the whole
# store (fit and scoring read it several times); inline for a few customers (``rescore.py``),
# where creating a table would cost more than computing their few rows again.
_STATS_SELECT = """
SELECT o.profile_id,
  count(DISTINCT (o.created_at AT TIME ZONE 'UTC')::date) - 1 AS x,
  extract(epoch FROM max(o.created_at) - min(o.created_at))::float8 / 86400 AS t_x,
  extract(epoch FROM %(now)s - min(o.created_at))::float8 / 86400 AS age,
  max(o.created_at) AS last_at,
  (avg(o.total_gross_base_minor - o.refunded_base_minor)
     FILTER (WHERE o.total_gross_base_minor > o.refunded_base_minor))::float8 AS mean_value,
  count(*) FILTER (WHERE o.total_gross_base_minor > o.refunded_base_minor) AS valued
FROM crm_order o
WHERE o.tenant_id = %(tenant)s AND o.profile_id IS NOT NULL AND o.created_at <= %(now)s
  AND o.status <> ALL(%(not_purchases)s) {only}
GROUP BY o.profile_id
"""
_STATS = "CREATE TEMP TABLE crm_tmp_prediction ON COMMIT DROP AS" + _STATS_SELECT
ONLY_PROFILES = "AND o.profile_id = ANY(%(ids)s::bigint[])"
STORE_STATS = "crm_tmp_prediction"
PROFILE_STATS = f"({_STATS_SELECT.format(only=ONLY_PROFILES)})"

_FACTS = """
SELECT count(*), count(*) FILTER (WHERE x > 0), COALESCE(max(age), 0),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t_x / x) FILTER (WHERE x > 0),
       avg(mean_value), COALESCE(sum(x) / nullif(sum(greatest(age, 1)), 0), 0)
FROM crm_tmp_prediction
"""

_BUCKETS = f"""
SELECT x, round(t_x / {FIT_UNIT_DAYS})::float8, round(age / {FIT_UNIT_DAYS})::float8, count(*)
FROM crm_tmp_prediction GROUP BY 1, 2, 3
"""

# Mean values within 1% of each other share a bucket.
_VALUE_BUCKETS = """
SELECT valued, avg(mean_value), count(*) FROM crm_tmp_prediction
WHERE valued >= 2 GROUP BY valued, round(ln(mean_value) * 100)
"""

_UPSERT = """
INSERT INTO crm_customer_prediction AS cp (profile_id, tenant_id, method, churn_risk,
  expected_orders_12m, expected_order_value_minor, value_12m_minor, next_order_at, computed_at)
SELECT profile_id, %(tenant)s, %(method)s, round((1 - alive)::numeric, 4)::float8,
  round(orders::numeric, 4)::float8, round(order_value)::bigint,
  round(orders * order_value)::bigint, next_at, %(now)s
FROM ({scored}) scored
ON CONFLICT (profile_id) DO UPDATE SET method = EXCLUDED.method,
  churn_risk = EXCLUDED.churn_risk, expected_orders_12m = EXCLUDED.expected_orders_12m,
  expected_order_value_minor = EXCLUDED.expected_order_value_minor,
  value_12m_minor = EXCLUDED.value_12m_minor, next_order_at = EXCLUDED.next_order_at,
  computed_at = EXCLUDED.computed_at
"""

# P(alive) = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ^ (r + x)) for x > 0,
# in logs and clamped, as PostgreSQL raises on exp() overflow and underflow.
_BGNBD_SCORED = f"""
SELECT s.profile_id, k.alive, e.expected * k.alive AS orders,
  CASE WHEN %(gg)s THEN (%(gamma)s + COALESCE(s.mean_value, 0) * s.valued) * %(p)s
                        / (%(p)s * s.valued + %(q)s - 1)
       ELSE COALESCE(s.mean_value, %(store_value)s) END AS order_value,
  %(now)s + make_interval(secs => least((%(alpha)s + s.age) / (%(r)s + s.x),
                                        {MAX_WAIT_DAYS}) * 86400) AS next_at
FROM {{source}} s
JOIN unnest(%(xs)s::int[], %(ages)s::int[], %(expected)s::float8[]) AS e(x, age, expected)
  ON e.x = s.x AND e.age = round(s.age)::int
CROSS JOIN LATERAL (
  SELECT CASE WHEN s.x = 0 THEN 1.0::float8 ELSE 1.0 / (1.0 + exp(least(700.0, greatest(-700.0,
    ln(%(a)s / (%(b)s + s.x - 1)) + (%(r)s + s.x) * ln((%(alpha)s + s.age) / (%(alpha)s + s.t_x))
  )))) END AS alive
) k
"""

# Gap: the customer's own average gap (else the store's median). Activity decays once one gap
# has passed: exp(-(d - gap) / (2 gap)), so churn risk is 0.39 at twice the gap, 0.78 at four,
# 0.97 at eight; someone who bought once is, at best, as likely to come back as the store's
# buyers so far were (the share who bought again). Purchases: their own rate of repeat
# purchases since their first (x / T, which counts a lapse), else the store's, times the decay.
_HEURISTIC_SCORED = f"""
SELECT profile_id, CASE WHEN x > 0 THEN 1.0 ELSE %(repeat_share)s END * decay AS alive,
  decay * {HORIZON_DAYS} * CASE WHEN x > 0 THEN x / greatest(age, gap)
                                ELSE %(store_rate)s END AS orders,
  COALESCE(mean_value, %(store_value)s) AS order_value,
  greatest(last_at + make_interval(secs => gap * 86400), %(now)s) AS next_at
FROM (
  SELECT g.*, CASE WHEN d <= gap THEN 1.0::float8
                   ELSE exp(-least((d - gap) / (2 * gap), 700.0)) END AS decay
  FROM (
    SELECT s.*, greatest(CASE WHEN s.x > 0 THEN s.t_x / s.x ELSE %(store_gap)s END,
                         {MIN_GAP_DAYS})::float8 AS gap,
           extract(epoch FROM %(now)s - s.last_at)::float8 / 86400 AS d
    FROM {{source}} s
  ) g
) h
"""

_FORGET = """
DELETE FROM crm_customer_prediction cp WHERE cp.tenant_id = %(tenant)s {only}
  AND NOT EXISTS (SELECT 1 FROM {source} s WHERE s.profile_id = cp.profile_id)
"""
ONLY_PREDICTIONS = "AND cp.profile_id = ANY(%(ids)s::bigint[])"


@dataclass(frozen=True)
class Facts:
    customers: int
    repeat_customers: int
    history_days: float
    store_gap_days: float | None
    store_value: float | None
    store_rate: float  # repeat purchases per customer-day since each first purchase


def predict_store(tenant: Tenant, now: datetime) -> PredictionModel:
    """Fit the store's model on its purchases up to ``now`` and score every customer who has
    bought; customers without a purchase any more lose their prediction. Atomic and a pure
    function of the stored orders and ``now``: running it twice gives the same figures.

    The fitted parameters and the store figures the scoring uses are stored with the model, and
    every customer is scored from those stored values (``score_customers``), exactly as one
    customer is rescored when an order of theirs arrives (``rescore.py``)."""
    with transaction.atomic(), connection.cursor() as cur:
        # The inbox's per-store lock (as the recompute): a batch rescoring its customers waits,
        # so it neither deadlocks with this upsert nor is overwritten by figures computed from
        # the orders before it.
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INBOX_LOCK, tenant.pk])
        collect_stats(cur, tenant, now, None)
        cur.execute(_FACTS)
        row = cur.fetchone()
        assert row is not None
        facts = Facts(row[0], row[1], float(row[2]), row[3], row[4], float(row[5]))
        reason = _too_little(facts)
        model: BGNBD | None = None
        if not reason:
            cur.execute(_BUCKETS)
            model, _ = fit_bgnbd(cur.fetchall(), FIT_UNIT_DAYS)
            reason = _implausible(model)
        values: GammaGamma | None = None
        if model is not None and not reason:
            cur.execute(_VALUE_BUCKETS)
            value_buckets = cur.fetchall()
            if len(value_buckets) >= 2:
                values, _ = fit_gamma_gamma(value_buckets)
                if not values.q > 1 or not all(map(math.isfinite, (values.p, values.gamma))):
                    values = None
        fitted = model if model is not None and not reason else None
        found, _ = PredictionModel.objects.update_or_create(
            tenant=tenant,
            defaults={
                "method": BGNBD_METHOD if fitted else HEURISTIC,
                "reason": reason,
                "r": fitted.r if fitted else None,
                "alpha": fitted.alpha if fitted else None,
                "a": fitted.a if fitted else None,
                "b": fitted.b if fitted else None,
                "p": values.p if fitted and values else None,
                "q": values.q if fitted and values else None,
                "gamma": values.gamma if fitted and values else None,
                "customers": facts.customers,
                "repeat_customers": facts.repeat_customers,
                "history_days": round(facts.history_days, 2),
                "store_gap_days": facts.store_gap_days,
                "store_value": facts.store_value or 0.0,
                "store_rate": facts.store_rate,
                "fitted_at": now,
            },
        )
        found.refresh_from_db()  # the stored floats, as a later rescoring reads them
        score_customers(cur, tenant, found, now, None)
    return found


def collect_stats(cur: Any, tenant: Tenant, now: datetime, profile_ids: list[int] | None) -> None:
    """Per-customer statistics into ``crm_tmp_prediction`` (dropped at commit): of the whole
    store, or of these profiles only."""
    cur.execute("DROP TABLE IF EXISTS crm_tmp_prediction")
    cur.execute(
        _STATS.format(only=ONLY_PROFILES if profile_ids is not None else ""),
        {
            "tenant": tenant.pk,
            "now": now,
            "not_purchases": list(NOT_PURCHASES),
            "ids": profile_ids or [],
        },
    )


def score_customers(
    cur: Any,
    tenant: Tenant,
    model: PredictionModel,
    now: datetime,
    profile_ids: list[int] | None,
) -> None:
    """Score with the stored model as of ``now`` (one upsert) the customers of the store (their
    statistics in ``crm_tmp_prediction``, from ``collect_stats``) or these profiles (statistics
    computed inline by the same SELECT), and drop the prediction of those who have no purchase
    any more. Nothing is fitted: the same stored values give the same figures."""
    source = STORE_STATS if profile_ids is None else PROFILE_STATS
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "now": now,
        "ids": profile_ids or [],
        "not_purchases": list(NOT_PURCHASES),
        "method": model.method,
        "store_value": model.store_value or 0.0,
        "store_gap": model.store_gap_days or float(crm_settings.LIFECYCLE_DEFAULT_CADENCE_DAYS),
        "store_rate": model.store_rate or 0.0,
        "repeat_share": model.repeat_customers / model.customers if model.customers else 0.0,
    }
    fitted = stored_bgnbd(model)
    if fitted is not None:
        values = (
            GammaGamma(model.p, model.q, model.gamma)
            if model.p is not None and model.q is not None and model.gamma is not None
            else None
        )
        params.update(_bgnbd_params(cur, fitted, values, source, params))
        sql = _UPSERT.format(scored=_BGNBD_SCORED.format(source=source))
    else:
        sql = _UPSERT.format(scored=_HEURISTIC_SCORED.format(source=source))
    cur.execute(sql, params)
    only = ONLY_PREDICTIONS if profile_ids is not None else ""
    cur.execute(_FORGET.format(only=only, source=source), params)


def stored_bgnbd(model: PredictionModel) -> BGNBD | None:
    """The stored BG/NBD parameters, when the store's method is BG/NBD."""
    if model.method != BGNBD_METHOD:
        return None
    if model.r is None or model.alpha is None or model.a is None or model.b is None:
        return None
    return BGNBD(model.r, model.alpha, model.a, model.b)


def _too_little(facts: Facts) -> str:
    need = crm_settings.PREDICTION_MIN_REPEAT_CUSTOMERS
    if facts.repeat_customers < need:
        return f"customers who bought twice or more: {facts.repeat_customers} (BG/NBD needs {need})"
    days = crm_settings.PREDICTION_MIN_HISTORY_DAYS
    if facts.history_days < days:
        return f"days of purchases: {facts.history_days:.0f} (BG/NBD needs {days})"
    return ""


def _implausible(model: BGNBD) -> str:
    """A fit the formulas cannot use (a data set the model does not describe at all)."""
    numbers = (model.r, model.alpha, model.a, model.b)
    if not all(math.isfinite(v) and v > 0 for v in numbers):
        return "the BG/NBD fit did not converge"
    if abs(model.a - 1) < 1e-4 or model.a + model.b <= 1:
        return "the BG/NBD fit is degenerate (a = 1 or a + b <= 1)"
    return ""


def _bgnbd_params(
    cur: Any, model: BGNBD, values: GammaGamma | None, source: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The fitted parameters and, per distinct (x, T in days), the expected purchases in the
    next 12 months of a customer still alive (the 2F1 part, in Python)."""
    cur.execute(f"SELECT DISTINCT x, round(age)::int FROM {source} s", params)
    pairs = cur.fetchall()
    return {
        "r": model.r,
        "alpha": model.alpha,
        "a": model.a,
        "b": model.b,
        "gg": values is not None,
        "p": values.p if values else 1.0,
        "q": values.q if values else 2.0,
        "gamma": values.gamma if values else 1.0,
        "xs": [x for x, _ in pairs],
        "ages": [age for _, age in pairs],
        "expected": [expected_if_alive(model, x, age, HORIZON_DAYS) for x, age in pairs],
    }

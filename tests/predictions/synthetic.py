"""A synthetic store drawn from known BG/NBD and Gamma-Gamma parameters, for checking the fit.

Each customer arrives on a random day of the first ``acquire_days``, buys then, and while
alive buys again after exponential gaps (rate ``lambda ~ Gamma(r, alpha)`` per day); after
each repeat purchase (as in BG/NBD, never right after the first) they drop out with
probability ``p ~ Beta(a, b)``. Order values are
``Gamma(p_v, nu)`` with ``nu ~ Gamma(q, gamma)`` per customer. Seeded, so reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Truth:
    r: float = 0.25
    alpha: float = 40.0  # days
    a: float = 0.8
    b: float = 2.5
    p: float = 6.0
    q: float = 4.0
    gamma: float = 1500.0  # minor units: mean order value p*gamma/(q-1) = 30.00


def draw_store(
    customers: int, *, days: int, acquire_days: int, truth: Truth | None = None, seed: int = 8
) -> list[list[tuple[float, int]]]:
    """Per customer, their purchases as (day since the store opened, value in minor units),
    over ``days`` days."""
    truth = truth or Truth()
    rng = random.Random(seed)
    store = []
    for _ in range(customers):
        rate = rng.gammavariate(truth.r, 1 / truth.alpha)
        drop = rng.betavariate(truth.a, truth.b)
        nu = rng.gammavariate(truth.q, 1 / truth.gamma)
        day = rng.uniform(0, acquire_days)
        orders = []
        while day < days:
            orders.append((day, max(1, round(rng.gammavariate(truth.p, 1 / nu)))))
            if len(orders) > 1 and rng.random() < drop:
                break
            day += rng.expovariate(rate) if rate > 0 else days
        store.append(orders)
    return store


PROFILES = """
INSERT INTO crm_profile (tenant_id, user_id, email, first_name, last_name, is_active,
  customer_language, customer_country, language, country, time_zone, orders_count,
  cancelled_orders_count, spent_gross_minor, spent_net_minor, refunded_minor,
  average_order_minor, refund_rate, totals_by_currency, channels, payment_methods, categories,
  products, created_at, updated_at)
SELECT %(tenant)s, NULL, 'c' || i || '@synthetic.example', '', '', true, '', '', '', '', '',
  0, 0, 0, 0, 0, 0, 0, '{}'::jsonb, '{}', '{}', '{}', '{}', now(), now()
FROM generate_series(1, %(n)s) AS i
RETURNING id
"""

ORDERS = """
INSERT INTO crm_order (tenant_id, profile_id, order_id, number, email, channel, currency, status,
  language, country, created_at, updated_at, issued_at, total_gross_minor, total_net_minor,
  charged_minor, refunded_minor, fx_rate, base_currency, total_gross_base_minor,
  total_net_base_minor, refunded_base_minor, payment_methods, lines, address_key, payment_keys,
  psp_references)
SELECT %(tenant)s, v.profile, 's' || v.i, v.i::text, '', 'default', 'EUR', 'FULFILLED', '', '',
  v.at, v.at, v.at, v.value, v.value, v.value, 0, 1, 'EUR', v.value, v.value, 0, '{}',
  '[]'::jsonb, '', '{}', '{}'
FROM unnest(%(profiles)s::bigint[], %(at)s::timestamptz[], %(values)s::bigint[])
  WITH ORDINALITY AS v(profile, at, value, i)
"""


def load_store(
    cur, tenant_id: int, store: list[list[tuple[float, int]]], opened: datetime
) -> list[int]:
    """Write the drawn store as profiles and fulfilled orders (set-based); returns profile ids
    in the store's order."""
    cur.execute(PROFILES, {"tenant": tenant_id, "n": len(store)})
    ids = sorted(row[0] for row in cur.fetchall())
    profiles, at, values = [], [], []
    for pk, orders in zip(ids, store, strict=True):
        for d, value in orders:
            profiles.append(pk)
            at.append(opened + timedelta(days=d))
            values.append(value)
    cur.execute(ORDERS, {"tenant": tenant_id, "profiles": profiles, "at": at, "values": values})
    return ids

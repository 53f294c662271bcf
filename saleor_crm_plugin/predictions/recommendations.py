"""Recommendations: products bought together, category affinity and viewed but not bought.

The recompute rebuilds three small tables from the store's purchases, each in one statement:
product pairs (support, confidence, lift over order lines), each customer's top categories and
each category's bestsellers of the last year. ``recommendations_for`` then assembles, for any
number of customers at once, one ranked list from them and from tracked product views:

1. viewed but not bought (views of the last ``CRM_RECOMMENDATION_VIEWED_DAYS``; only views the
   customer allowed to be tracked exist, and none are used once they withdrew the
   ``behaviour_tracking`` consent);
2. bought together with something they bought (highest confidence first);
3. bestsellers of the categories they buy from most.

Products the customer bought already are never recommended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from ..conf import crm_settings
from ..profiles.events import NOT_PURCHASES
from ..tenants.models import Tenant

PAIRS_PER_PRODUCT = 20
CATEGORIES_PER_CUSTOMER = 5
BESTSELLERS_PER_CATEGORY = 10
BESTSELLER_DAYS = 365
REASONS = ("viewed", "bought_together", "category")

# Each purchase's distinct products (and categories) once, from its JSON lines.
_ITEMS = """
CREATE TEMP TABLE crm_tmp_items ON COMMIT DROP AS
SELECT DISTINCT o.id AS order_pk, o.profile_id, o.created_at, l->>'product_id' AS product,
       COALESCE(l->>'category_slug', '') AS category
FROM crm_order o CROSS JOIN LATERAL jsonb_array_elements(o.lines) l
WHERE o.tenant_id = %(tenant)s AND o.created_at <= %(now)s
  AND o.status <> ALL(%(not_purchases)s) AND COALESCE(l->>'product_id', '') <> ''
"""

_PAIRS = """
WITH counts AS (SELECT product, count(DISTINCT order_pk) AS n FROM crm_tmp_items GROUP BY 1),
total AS (SELECT count(DISTINCT order_pk)::float8 AS n FROM crm_tmp_items),
pairs AS (
  SELECT a.product, b.product AS other, count(DISTINCT a.order_pk) AS together
  FROM crm_tmp_items a JOIN crm_tmp_items b ON b.order_pk = a.order_pk AND b.product <> a.product
  GROUP BY 1, 2 HAVING count(DISTINCT a.order_pk) >= %(min_orders)s
),
measured AS (
  SELECT p.product, p.other, p.together, p.together::float8 / ca.n AS confidence,
         (p.together::float8 / ca.n) / (cb.n / t.n) AS lift
  FROM pairs p JOIN counts ca ON ca.product = p.product JOIN counts cb ON cb.product = p.other
  CROSS JOIN total t
),
ranked AS (
  SELECT m.*, row_number() OVER (PARTITION BY product ORDER BY confidence DESC, other) AS rank
  FROM measured m WHERE lift > 1
)
INSERT INTO crm_product_pair (tenant_id, product_id, other_id, orders, confidence, lift)
SELECT %(tenant)s, product, other, together, round(confidence::numeric, 4)::float8,
       round(lift::numeric, 4)::float8
FROM ranked WHERE rank <= %(pairs)s
"""

_AFFINITY = """
WITH per AS (
  SELECT profile_id, category, count(DISTINCT order_pk) AS n FROM crm_tmp_items
  WHERE profile_id IS NOT NULL AND category <> '' GROUP BY 1, 2
),
totals AS (
  SELECT profile_id, count(DISTINCT order_pk)::float8 AS n FROM crm_tmp_items
  WHERE profile_id IS NOT NULL GROUP BY 1
),
ranked AS (
  SELECT per.*, per.n / t.n AS share,
         row_number() OVER (PARTITION BY per.profile_id ORDER BY per.n DESC, category) AS rank
  FROM per JOIN totals t USING (profile_id)
)
INSERT INTO crm_category_affinity (tenant_id, profile_id, category_slug, orders, share)
SELECT %(tenant)s, profile_id, category, n, round(share::numeric, 4)::float8
FROM ranked WHERE rank <= %(categories)s
"""

_BESTSELLERS = """
WITH sold AS (
  SELECT category, product, count(DISTINCT order_pk) AS n FROM crm_tmp_items
  WHERE category <> '' AND created_at > %(since)s GROUP BY 1, 2
),
ranked AS (
  SELECT s.*, row_number() OVER (PARTITION BY category ORDER BY n DESC, product) AS rank
  FROM sold s
)
INSERT INTO crm_category_bestseller (tenant_id, category_slug, product_id, orders, rank)
SELECT %(tenant)s, category, product, n, rank FROM ranked WHERE rank <= %(bestsellers)s
"""


def compute_recommendations(tenant: Tenant, now: datetime) -> None:
    """Rebuild the store's product pairs, customers' category affinities and category
    bestsellers from its purchases up to ``now``. Atomic; readers see the old tables or the
    new ones. A pure function of the stored orders: running it twice changes nothing."""
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "now": now,
        "since": now - timedelta(days=BESTSELLER_DAYS),
        "not_purchases": list(NOT_PURCHASES),
        "min_orders": crm_settings.RECOMMENDATION_MIN_PAIR_ORDERS,
        "pairs": PAIRS_PER_PRODUCT,
        "categories": CATEGORIES_PER_CUSTOMER,
        "bestsellers": BESTSELLERS_PER_CATEGORY,
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS crm_tmp_items")
        cur.execute(_ITEMS, params)
        for table in ("crm_product_pair", "crm_category_affinity", "crm_category_bestseller"):
            cur.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
        cur.execute(_PAIRS, params)
        cur.execute(_AFFINITY, params)
        cur.execute(_BESTSELLERS, params)


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    name: str
    slug: str
    category_slug: str
    reason: str  # viewed, bought_together, category
    because: str  # the product bought with it, or the category; "" for a view


# Scores keep the reasons in order (viewed 3-4, bought together 2-3, category 1-2); within a
# reason, the newer view, the higher confidence, the stronger affinity and better seller win.
_FOR = """
WITH who AS (
  SELECT p.id AS profile_id FROM crm_profile p
  WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(ids)s::bigint[])
),
bought AS (
  SELECT DISTINCT o.profile_id, l->>'product_id' AS product
  FROM crm_order o CROSS JOIN LATERAL jsonb_array_elements(o.lines) l
  WHERE o.profile_id IN (SELECT profile_id FROM who) AND o.status <> ALL(%(not_purchases)s)
),
tracked AS (
  SELECT w.profile_id FROM who w
  WHERE COALESCE((
    SELECT c.action FROM crm_consent_entry c
    WHERE c.profile_id = w.profile_id AND c.purpose = 'behaviour_tracking'
    ORDER BY c.occurred_at DESC, c.id DESC LIMIT 1), '') <> 'withdraw'
),
candidates AS (
  SELECT e.profile_id, e.subject_id AS product, 'viewed' AS reason, '' AS because,
         3 + extract(epoch FROM max(e.occurred_at) - %(since)s) / %(window)s AS score
  FROM crm_tracked_event e
  WHERE e.profile_id IN (SELECT profile_id FROM tracked) AND e.kind = 'product_viewed'
    AND e.occurred_at > %(since)s AND e.occurred_at <= %(now)s AND e.subject_id <> ''
  GROUP BY e.profile_id, e.subject_id
  UNION ALL
  SELECT b.profile_id, pp.other_id, 'bought_together', b.product, 2 + pp.confidence
  FROM bought b JOIN crm_product_pair pp
    ON pp.tenant_id = %(tenant)s AND pp.product_id = b.product
  UNION ALL
  SELECT a.profile_id, cb.product_id, 'category', a.category_slug, 1 + a.share / cb.rank
  FROM crm_category_affinity a JOIN crm_category_bestseller cb
    ON cb.tenant_id = a.tenant_id AND cb.category_slug = a.category_slug
  WHERE a.profile_id IN (SELECT profile_id FROM who)
),
best AS (
  SELECT DISTINCT ON (c.profile_id, c.product) c.*
  FROM candidates c
  WHERE NOT EXISTS (SELECT 1 FROM bought b
                    WHERE b.profile_id = c.profile_id AND b.product = c.product)
  ORDER BY c.profile_id, c.product, c.score DESC, c.because
),
ranked AS (
  SELECT b.*, row_number() OVER (PARTITION BY b.profile_id
                                 ORDER BY b.score DESC, b.product) AS rank
  FROM best b
)
SELECT r.profile_id, r.product, COALESCE(p.name, ''), COALESCE(p.slug, ''),
       COALESCE(p.category_slug, ''), r.reason, r.because
FROM ranked r
LEFT JOIN crm_product p ON p.tenant_id = %(tenant)s AND p.product_id = r.product
WHERE r.rank <= %(limit)s
ORDER BY r.profile_id, r.rank
"""


def recommendations_for(
    tenant: Tenant, profile_ids: Sequence[int], limit: int, now: datetime
) -> dict[int, list[Recommendation]]:
    """Up to ``limit`` products for each of these customers, best first, in one query (a page
    of customers, or the recipients of a message batch). Customers with nothing to recommend
    are absent from the answer."""
    ids = sorted(set(profile_ids))
    if not ids or limit <= 0:
        return {}
    days = crm_settings.RECOMMENDATION_VIEWED_DAYS
    with connection.cursor() as cur:
        cur.execute(
            _FOR,
            {
                "tenant": tenant.pk,
                "ids": ids,
                "now": now,
                "since": now - timedelta(days=days),
                "window": float(days * 86400),
                "not_purchases": list(NOT_PURCHASES),
                "limit": limit,
            },
        )
        found: dict[int, list[Recommendation]] = {}
        for profile_id, *fields in cur.fetchall():
            found.setdefault(profile_id, []).append(Recommendation(*fields))
    return found

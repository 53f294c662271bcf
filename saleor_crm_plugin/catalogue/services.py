"""Keeping the product catalogue current from order and cart lines, set-based."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection

from ..inbox.types import Line


def remember(tenant_id: int, lines: Iterable[tuple[Line, datetime]]) -> None:
    """Upsert each product's name and category; a newer sighting wins, an older one (a late
    delivery) changes nothing."""
    newest: dict[str, tuple[Line, datetime]] = {}
    for line, seen in lines:
        if not line.product_id:
            continue
        known = newest.get(line.product_id)
        if known is None or seen > known[1]:
            newest[line.product_id] = (line, seen)
    if not newest:
        return
    rows: Sequence[tuple[Line, datetime]] = list(newest.values())
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_product AS p (tenant_id, product_id, name, slug, category_slug,
                                          category_name, seen_at)
            SELECT %s, v.id, v.name, v.slug, v.category_slug, v.category_name, v.seen
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                        %s::timestamptz[]) AS v(id, name, slug, category_slug, category_name, seen)
            ON CONFLICT (tenant_id, product_id) DO UPDATE SET
              name = EXCLUDED.name, slug = EXCLUDED.slug,
              category_slug = EXCLUDED.category_slug, category_name = EXCLUDED.category_name,
              seen_at = EXCLUDED.seen_at
            WHERE EXCLUDED.seen_at > p.seen_at
            """,
            [
                tenant_id,
                [line.product_id for line, _ in rows],
                [line.product_name for line, _ in rows],
                [line.product_slug for line, _ in rows],
                [line.category_slug for line, _ in rows],
                [line.category_name for line, _ in rows],
                [seen for _, seen in rows],
            ],
        )


def names(tenant_id: int, product_ids: Sequence[str]) -> dict[str, str]:
    """Product id -> name, for the ids the CRM has seen (others are left out)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT product_id, name FROM crm_product "
            "WHERE tenant_id = %s AND product_id = ANY(%s)",
            [tenant_id, list(product_ids)],
        )
        return dict(cur.fetchall())

"""Orders and checkouts as we last saw them, written in one statement per batch.

Every write is guarded by the object's version (``updatedAt``, then ``issuedAt``), so an older
delivery arriving late, or a replay, never overwrites a newer state. An order's FX rate is fixed
the first time we see it and never changed afterwards: history does not move with rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from ..inbox.types import Checkout, Order
from ..money.currencies import convert_minor
from .sql import PROFILE_FOR, bound_cursor, rows_json


def newest(items: Sequence[tuple[Order, datetime]]) -> list[tuple[Order, datetime]]:
    """One snapshot per order: the newest version in the batch (Postgres cannot upsert a row twice
    in one statement)."""
    best: dict[str, tuple[Order, datetime]] = {}
    for order, issued in items:
        current = best.get(order.order_id)
        if current is None or (order.updated_at, issued) > (current[0].updated_at, current[1]):
            best[order.order_id] = (order, issued)
    return list(best.values())


def fixed_rates(tenant_id: int, order_ids: Sequence[str]) -> dict[str, Decimal]:
    """Rates already fixed on stored orders."""
    if not order_ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT order_id, fx_rate FROM crm_order WHERE tenant_id = %s AND order_id = ANY(%s)",
            [tenant_id, list(order_ids)],
        )
        return {order_id: rate for order_id, rate in cur.fetchall()}


def upsert_orders(
    tenant_id: int, base: str, rows: Sequence[tuple[Order, datetime, Decimal]]
) -> set[int]:
    """Write the newest state of each order and attach it to its profile.

    Returns the ids of profiles whose figures may have changed (new and previous owners).
    """
    if not rows:
        return set()
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "base": base,
        "order_id": [o.order_id for o, _, _ in rows],
        "rows": rows_json(
            [
                {
                    "order_id": o.order_id,
                    "number": o.number,
                    "user_id": o.user_id,
                    "email": o.email,
                    "channel": o.channel,
                    "currency": o.currency,
                    "status": o.status,
                    "language": o.language,
                    "country": o.country,
                    "created": o.created_at,
                    "updated": o.updated_at,
                    "issued": i,
                    "gross": o.total_gross_minor,
                    "net": o.total_net_minor,
                    "charged": o.charged_minor,
                    "refunded": o.refunded_minor,
                    "rate": r,
                    "gross_base": convert_minor(o.total_gross_minor, o.currency, r, base),
                    "net_base": convert_minor(o.total_net_minor, o.currency, r, base),
                    "refunded_base": convert_minor(o.refunded_minor, o.currency, r, base),
                    "methods": o.payment_methods,
                    "lines": o.lines,  # orjson writes dataclasses itself
                    "checkout": o.checkout_id,
                    "voucher": o.voucher_code,
                    "address_key": o.address_key,
                    "payment_keys": o.payment_keys,
                }
                for o, i, r in rows
            ]
        ),
    }
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT profile_id FROM crm_order WHERE tenant_id = %(tenant)s "
            "AND order_id = ANY(%(order_id)s) AND profile_id IS NOT NULL",
            params,
        )
        touched = {row[0] for row in cur.fetchall()}
        # The profile is written with the row: a second write of every order of the batch
        # (eight indexes, one of them GIN, and a foreign-key check) was the costliest
        # statement of a batch. The UPDATE below moves only the orders whose owner changed.
        with bound_cursor() as bound:  # the batch's rows: one large parameter
            bound.execute(
                f"""
            INSERT INTO crm_order AS o (
              tenant_id, order_id, number, user_id, email, channel, currency, status, language,
              country, created_at, updated_at, issued_at, total_gross_minor, total_net_minor,
              charged_minor, refunded_minor, fx_rate, base_currency, total_gross_base_minor,
              total_net_base_minor, refunded_base_minor, payment_methods, lines, checkout_id,
              address_key, payment_keys, voucher_code, profile_id)
            SELECT %(tenant)s, v.order_id, v.number, v.user_id, v.email, v.channel, v.currency,
              v.status, v.language, v.country, v.created, v.updated, v.issued, v.gross, v.net,
              v.charged, v.refunded, v.rate, %(base)s, v.gross_base, v.net_base, v.refunded_base,
              v.methods, v.lines, v.checkout, v.address_key, v.payment_keys, v.voucher,
              {PROFILE_FOR}
            FROM jsonb_to_recordset(%(rows)s::jsonb)
              AS v(order_id text, number text, user_id text, email text, channel text,
                   currency text, status text, language text, country text,
                   created timestamptz, updated timestamptz, issued timestamptz, gross bigint,
                   net bigint, charged bigint, refunded bigint, rate numeric, gross_base bigint,
                   net_base bigint, refunded_base bigint, methods text[], lines jsonb,
                   checkout text, address_key text, payment_keys text[], voucher text)
            ON CONFLICT (tenant_id, order_id) DO UPDATE SET
              number = EXCLUDED.number, user_id = EXCLUDED.user_id,
              email = EXCLUDED.email,
              channel = EXCLUDED.channel, status = EXCLUDED.status, language = EXCLUDED.language,
              country = EXCLUDED.country, updated_at = EXCLUDED.updated_at,
              issued_at = EXCLUDED.issued_at, total_gross_minor = EXCLUDED.total_gross_minor,
              total_net_minor = EXCLUDED.total_net_minor, charged_minor = EXCLUDED.charged_minor,
              refunded_minor = EXCLUDED.refunded_minor,
              total_gross_base_minor = EXCLUDED.total_gross_base_minor,
              total_net_base_minor = EXCLUDED.total_net_base_minor,
              refunded_base_minor = EXCLUDED.refunded_base_minor,
              payment_methods = EXCLUDED.payment_methods, lines = EXCLUDED.lines,
              checkout_id = COALESCE(EXCLUDED.checkout_id, o.checkout_id),
              voucher_code = COALESCE(EXCLUDED.voucher_code, o.voucher_code),
              -- a later state without the details (an older Saleor) keeps what we knew
              address_key = COALESCE(NULLIF(EXCLUDED.address_key, ''), o.address_key),
              payment_keys = CASE WHEN cardinality(EXCLUDED.payment_keys) > 0
                                  THEN EXCLUDED.payment_keys ELSE o.payment_keys END,
              profile_id = EXCLUDED.profile_id
            WHERE (EXCLUDED.updated_at, EXCLUDED.issued_at) > (o.updated_at, o.issued_at)
            RETURNING o.profile_id
            """,
                {k: params[k] for k in ("tenant", "base", "rows")},
            )
            touched |= {row[0] for row in bound.fetchall() if row[0] is not None}
        cur.execute(
            f"""
            UPDATE crm_order o SET profile_id = x.profile_id
            FROM (
              SELECT v.id, {PROFILE_FOR} AS profile_id FROM crm_order v
              WHERE v.tenant_id = %(tenant)s AND v.order_id = ANY(%(order_id)s)
            ) x
            WHERE o.id = x.id AND o.profile_id IS DISTINCT FROM x.profile_id
            RETURNING o.profile_id
            """,
            params,
        )
        touched |= {row[0] for row in cur.fetchall() if row[0] is not None}
        _record_psp_references(cur, tenant_id, rows)
        _link_redemptions(cur, params)
        # Orders of a deleted customer keep their amounts for the store's figures, not the e-mail.
        cur.execute(
            """
            UPDATE crm_order o SET email = '', address_key = '', payment_keys = '{}'
            FROM crm_deleted_customer d
            WHERE o.tenant_id = %(tenant)s AND o.order_id = ANY(%(order_id)s) AND o.email <> ''
              AND d.tenant_id = o.tenant_id AND d.user_id = o.user_id
            """,
            params,
        )
        # A completed checkout is no longer a candidate for recovery. Each of the batch's
        # orders looks up its checkout through the two unique keys, as subqueries run once per
        # order: written as joins, the planner, short of statistics (a young store, autovacuum
        # behind a burst), still scanned the tenant's open checkouts once per order (25-30 ms
        # a batch at 300 customers, growing with the store; 100-250 ms before it was driven by
        # the batch's order ids).
        cur.execute(
            """
            WITH o AS MATERIALIZED (
              SELECT v.order_id,
                     (SELECT o.checkout_id FROM crm_order o
                      WHERE o.tenant_id = %(tenant)s AND o.order_id = v.order_id) AS checkout_id
              FROM unnest(%(order_id)s::text[]) AS v(order_id)
            ), m AS MATERIALIZED (
              SELECT o.order_id,
                     -- through the unique key: a condition on completed_order_id here or
                     -- below would have the planner scan crm_checkout_open instead
                     (SELECT CASE WHEN c.completed_order_id IS NULL THEN c.id END
                      FROM crm_checkout c
                      WHERE c.tenant_id = %(tenant)s AND c.checkout_id = o.checkout_id
                     ) AS checkout_pk
              FROM o WHERE o.checkout_id IS NOT NULL
            )
            UPDATE crm_checkout c SET completed_order_id = m.order_id
            FROM m
            WHERE c.id = ANY(ARRAY(SELECT checkout_pk FROM m WHERE checkout_pk IS NOT NULL))
              AND c.id = m.checkout_pk
            """,
            params,
        )
    return touched


def _link_redemptions(cur: Any, params: dict[str, Any]) -> None:
    """Link the orders whose voucher code is a reward the CRM issued to that redemption.

    Once: an order already linked keeps its link, and a redemption already spent on another
    order is not linked again (the voucher is single-use; the partial unique index backs
    this), so replays and late snapshots change nothing. Gift cards are not linked: Saleor's
    order payload names only their last four characters."""
    cur.execute(
        """
        UPDATE crm_order o SET redemption_id = m.entry_id
        FROM (
          SELECT DISTINCT ON (e.id) c.id AS order_pk, e.id AS entry_id  -- the earliest order
          FROM crm_order c
          JOIN crm_points_entry e
            ON e.tenant_id = c.tenant_id AND e.kind = 'redeem' AND e.source = 'redemption'
           AND (e.data #>> '{voucher,code}') = c.voucher_code
          WHERE c.tenant_id = %(tenant)s AND c.order_id = ANY(%(order_id)s)
            AND c.voucher_code IS NOT NULL AND c.redemption_id IS NULL
            AND NOT EXISTS (SELECT 1 FROM crm_order x WHERE x.redemption_id = e.id)
          ORDER BY e.id, c.created_at, c.id
        ) m
        WHERE o.id = m.order_pk
        """,
        params,
    )


def _record_psp_references(
    cur: Any, tenant_id: int, rows: Sequence[tuple[Order, datetime, Decimal]]
) -> None:
    """Add the orders' PSP references (a union: references only accumulate, so an older
    snapshot arriving late cannot remove one)."""
    found = [(o.order_id, ref) for o, _, _ in rows for ref in o.psp_references]
    if not found:
        return
    cur.execute(
        """
        UPDATE crm_order o SET psp_references = ARRAY(
          SELECT DISTINCT r FROM unnest(o.psp_references || x.refs) AS r ORDER BY r)
        FROM (SELECT order_id, array_agg(ref)::varchar[] AS refs
              FROM unnest(%s::text[], %s::text[]) AS v(order_id, ref) GROUP BY order_id) x
        WHERE o.tenant_id = %s AND o.order_id = x.order_id
          AND NOT (o.psp_references @> x.refs)
        """,
        [[f[0] for f in found], [f[1] for f in found], tenant_id],
    )


def upsert_checkouts(tenant_id: int, rows: Sequence[tuple[Checkout, datetime, bool]]) -> None:
    """Write the newest state of each checkout (a snapshot: Saleor deletes old checkouts)."""
    best: dict[str, tuple[Checkout, datetime]] = {}
    for checkout, issued, _paid in rows:
        current = best.get(checkout.checkout_id)
        if current is None or (checkout.updated_at, issued) > (current[0].updated_at, current[1]):
            best[checkout.checkout_id] = (checkout, issued)
    if not best:
        return
    items = list(best.values())
    paid: dict[str, datetime] = {}
    for checkout, issued, is_paid in rows:
        if is_paid and (checkout.checkout_id not in paid or issued < paid[checkout.checkout_id]):
            paid[checkout.checkout_id] = issued
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "checkout_id": [c.checkout_id for c, _ in items],
        "rows": rows_json(
            [
                {
                    "checkout_id": c.checkout_id,
                    "token": c.token,
                    "user_id": c.user_id,
                    "email": c.email,
                    "channel": c.channel,
                    "currency": c.currency,
                    "language": c.language,
                    "country": c.country,
                    "created": c.created_at,
                    "updated": c.updated_at,
                    "issued": i,
                    "total": c.total_gross_minor,
                    "lines": c.lines,
                }
                for c, i in items
            ]
        ),
        "paid_id": list(paid),
        "paid_at": list(paid.values()),
    }
    with bound_cursor() as bound:  # the batch's rows: one large parameter
        bound.execute(
            f"""
            INSERT INTO crm_checkout AS c (
              tenant_id, checkout_id, token, user_id, email, channel, currency, language, country,
              created_at, updated_at, issued_at, total_gross_minor, lines, profile_id)
            SELECT %(tenant)s, v.checkout_id, v.token, v.user_id, v.email, v.channel, v.currency,
              v.language, v.country, v.created, v.updated, v.issued, v.total, v.lines,
              {PROFILE_FOR}
            FROM jsonb_to_recordset(%(rows)s::jsonb)
              AS v(checkout_id text, token text, user_id text, email text, channel text,
                   currency text, language text, country text, created timestamptz,
                   updated timestamptz, issued timestamptz, total bigint, lines jsonb)
            ON CONFLICT (tenant_id, checkout_id) DO UPDATE SET
              token = EXCLUDED.token, user_id = COALESCE(EXCLUDED.user_id, c.user_id),
              email = EXCLUDED.email, channel = EXCLUDED.channel, currency = EXCLUDED.currency,
              language = EXCLUDED.language, country = EXCLUDED.country,
              updated_at = EXCLUDED.updated_at, issued_at = EXCLUDED.issued_at,
              total_gross_minor = EXCLUDED.total_gross_minor, lines = EXCLUDED.lines
            WHERE (EXCLUDED.updated_at, EXCLUDED.issued_at) > (c.updated_at, c.issued_at)
            """,
            {"tenant": tenant_id, "rows": params.pop("rows")},
        )
    with connection.cursor() as cur:
        # A new checkout got its profile with the row; this moves the ones whose owner changed.
        cur.execute(
            f"""
            UPDATE crm_checkout c SET profile_id = x.profile_id
            FROM (
              SELECT v.id, {PROFILE_FOR} AS profile_id FROM crm_checkout v
              WHERE v.tenant_id = %(tenant)s AND v.checkout_id = ANY(%(checkout_id)s)
            ) x
            WHERE c.id = x.id AND c.profile_id IS DISTINCT FROM x.profile_id
            """,
            params,
        )
        cur.execute(
            """
            UPDATE crm_checkout c SET paid_at = LEAST(COALESCE(c.paid_at, x.at), x.at)
            FROM unnest(%(paid_id)s::text[], %(paid_at)s::timestamptz[]) AS x(checkout_id, at)
            WHERE c.tenant_id = %(tenant)s AND c.checkout_id = x.checkout_id
            """,
            params,
        )

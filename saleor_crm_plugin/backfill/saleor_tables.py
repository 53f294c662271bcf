"""Plugin mode: backfill straight from Saleor's own tables, with set-based SQL.

Inside Saleor the CRM shares Saleor's database, so there is no API to page through and no token
to hold: one ``INSERT ... SELECT`` per chunk of rows builds, for each customer, order and open
checkout, the very JSON body the plugin's hooks store (``plugin/serializers.py`` writes it from
Saleor's models, this writes it from Saleor's tables) and puts it in the inbox. The one parser
and the one set-based apply path take it from there, so version guards, deduplication and the
FX rate at order time behave exactly as for live traffic.

Chunks follow the primary key, and the chunk's last key is saved with its rows in one
transaction (``BackfillCursor``, as in the app door), so an interrupted run resumes after the
last stored chunk. Python never sees a row: a store of a million orders is a few hundred
statements, and the time goes to applying the inbox (see ``BENCHMARKS.md``).

The column names are Saleor 3.24's; ``tests/in_saleor`` checks inside a real Saleor that a body
built here reads exactly like the one the hooks build for the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from ..tenants.models import Tenant
from .models import BackfillCursor

CHUNK = 2000


def _gid(kind: str, pk: str) -> str:
    """Saleor's global id, ``base64("Kind:pk")``, as SQL."""
    return f"replace(encode(convert_to('{kind}:' || ({pk})::text, 'UTF8'), 'base64'), E'\\n', '')"


def _ts(column: str) -> str:
    return f"""to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


def _lang(column: str) -> str:
    return f"upper(replace(coalesce({column}, ''), '-', '_'))"


def _address(alias: str) -> str:
    return (
        f"CASE WHEN {alias}.id IS NULL THEN NULL ELSE json_build_object("
        f"'city', {alias}.city, 'country', json_build_object('code', {alias}.country), "
        f"'phone', {alias}.phone) END"
    )


def _shipping(alias: str) -> str:
    """An order's shipping address with the street, as the order query selects it."""
    return (
        f"CASE WHEN {alias}.id IS NULL THEN NULL ELSE json_build_object("
        f"'streetAddress1', {alias}.street_address_1, 'city', {alias}.city, "
        f"'postalCode', {alias}.postal_code, "
        f"'country', json_build_object('code', {alias}.country)) END"
    )


# A legacy payment's card as Saleor's ``Payment.creditCard`` shows it.
_CREDIT_CARD = """CASE WHEN coalesce(pm.cc_last_digits, '') = '' THEN NULL ELSE json_build_object(
        'brand', nullif(pm.cc_brand, ''), 'firstDigits', nullif(pm.cc_first_digits, ''),
        'lastDigits', pm.cc_last_digits, 'expMonth', pm.cc_exp_month,
        'expYear', pm.cc_exp_year) END"""

# A transaction item's card as ``paymentMethodDetails`` shows it. Saleor added the item's cc_*
# columns in 3.22, so they are read from the row as JSON (``tj.j``): on an older Saleor the keys
# are simply absent and the order has no card details, instead of the statement failing.
_TRANSACTION_CARD = """CASE WHEN coalesce(tj.j->>'cc_last_digits', '') = '' THEN NULL
      ELSE json_build_object('__typename', 'CardPaymentMethodDetails',
        'brand', nullif(tj.j->>'cc_brand', ''), 'firstDigits', nullif(tj.j->>'cc_first_digits', ''),
        'lastDigits', tj.j->>'cc_last_digits', 'expMonth', (tj.j->>'cc_exp_month')::int,
        'expYear', (tj.j->>'cc_exp_year')::int) END"""


def _money(amount: str, currency: str) -> str:
    return f"json_build_object('amount', coalesce({amount}, 0), 'currency', {currency})"


def _taxed(gross: str, net: str, currency: str) -> str:
    return f"json_build_object('gross', {_money(gross, currency)}, 'net', {_money(net, currency)})"


def _delivery(typename: str, issued: str, key: str, fields: str) -> str:
    """The webhook envelope our subscriptions produce, around one object's fields."""
    return (
        f"json_build_object('__typename', '{typename}', 'issuedAt', {issued}, "
        f"'version', 'backfill', 'issuingPrincipal', NULL, '{key}', json_build_object({fields}))"
    )


CHANNEL = (
    f"json_build_object('id', {_gid('Channel', 'ch.id')}, 'slug', ch.slug, "
    "'currencyCode', ch.currency_code)"
)

VARIANT = f"""
    CASE WHEN v.id IS NULL THEN NULL ELSE json_build_object(
      'id', {_gid("ProductVariant", "v.id")}, 'sku', v.sku, 'name', v.name,
      'product', json_build_object(
        'id', {_gid("Product", "p.id")}, 'name', p.name, 'slug', p.slug,
        'category', CASE WHEN c.id IS NULL THEN NULL ELSE json_build_object(
          'id', {_gid("Category", "c.id")}, 'name', c.name, 'slug', c.slug) END)) END
"""

VARIANT_JOINS = """
    LEFT JOIN product_productvariant v ON v.id = l.variant_id
    LEFT JOIN product_product p ON p.id = v.product_id
    LEFT JOIN product_category c ON c.id = p.category_id
"""

USER_REF = (
    f"CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object("
    f"'id', {_gid('User', 'u.id')}, 'email', u.email) END"
)

# Saleor's Order.totalRefunded (plugin/serializers.py ``refunded_amount`` says why).
REFUNDED = """(
  SELECT CASE WHEN lp.id IS NOT NULL AND (lp.is_active OR lp.charge_status = 'fully-refunded')
    THEN (SELECT sum(pt.amount) FROM payment_transaction pt
          WHERE pt.payment_id = lp.id AND pt.kind = 'refund' AND pt.is_success)
    ELSE (SELECT sum(t.refunded_value) FROM payment_transactionitem t WHERE t.order_id = o.id)
  END
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (
    SELECT p.id, p.is_active, p.charge_status FROM payment_payment p
    WHERE p.order_id = o.id ORDER BY p.id DESC LIMIT 1
  ) lp ON TRUE
)"""

ORDER_BODY = _delivery(
    "OrderUpdated",
    _ts("o.updated_at"),
    "order",
    f"""
    'id', {_gid("Order", "o.id")},
    'number', o.number::text,
    'created', {_ts("o.created_at")},
    'updatedAt', {_ts("o.updated_at")},
    'status', upper(o.status),
    'channel', {CHANNEL},
    'user', {USER_REF},
    'userEmail', coalesce(nullif(o.user_email, ''), u.email),
    'languageCodeEnum', {_lang("o.language_code")},
    'billingAddress', {_address("ba")},
    'shippingAddress', {_shipping("sa")},
    'total', {_taxed("o.total_gross_amount", "o.total_net_amount", "o.currency")},
    'totalCharged', {_money("o.total_charged_amount", "o.currency")},
    'totalRefunded', {_money(REFUNDED, "o.currency")},
    'lines', coalesce((
      SELECT json_agg(json_build_object(
        'productName', l.product_name, 'productSku', l.product_sku,
        'productVariantId', l.product_variant_id, 'quantity', l.quantity,
        'totalPrice', {
        _taxed("l.total_price_gross_amount", "l.total_price_net_amount", "o.currency")
    },
        'variant', {VARIANT}) ORDER BY l.created_at, l.id)
      FROM order_orderline l {VARIANT_JOINS}
      WHERE l.order_id = o.id), '[]'::json),
    'transactions', coalesce((
      SELECT json_agg(json_build_object('name', t.name, 'pspReference', t.psp_reference,
                                        'paymentMethodDetails', {_TRANSACTION_CARD})
                      ORDER BY t.created_at, t.id)
      FROM payment_transactionitem t, LATERAL (SELECT to_jsonb(t) AS j) tj
      WHERE t.order_id = o.id), '[]'::json),
    'payments', coalesce((
      SELECT json_agg(json_build_object('gateway', pm.gateway, 'pspReference', pm.psp_reference,
                                        'creditCard', {_CREDIT_CARD})
                      ORDER BY pm.created_at, pm.id)
      FROM payment_payment pm WHERE pm.order_id = o.id), '[]'::json),
    'checkoutId', CASE WHEN o.checkout_token IS NULL OR o.checkout_token = '' THEN NULL
                  ELSE {_gid("Checkout", "o.checkout_token")} END,
    'voucherCode', o.voucher_code
""",
)

ORDER_FROM = """
    order_order o
    JOIN channel_channel ch ON ch.id = o.channel_id
    LEFT JOIN account_user u ON u.id = o.user_id
    LEFT JOIN account_address ba ON ba.id = o.billing_address_id
    LEFT JOIN account_address sa ON sa.id = o.shipping_address_id
"""

CUSTOMER_BODY = _delivery(
    "CustomerUpdated",
    _ts("coalesce(u.updated_at, u.date_joined)"),
    "user",
    f"""
    'id', {_gid("User", "u.id")},
    'email', u.email,
    'firstName', u.first_name,
    'lastName', u.last_name,
    'isActive', u.is_active,
    'dateJoined', {_ts("u.date_joined")},
    'updatedAt', {_ts("coalesce(u.updated_at, u.date_joined)")},
    'languageCode', {_lang("u.language_code")},
    'defaultBillingAddress', {_address("ba")},
    'defaultShippingAddress', {_address("sa")}
""",
)

CUSTOMER_FROM = """
    account_user u
    LEFT JOIN account_address ba ON ba.id = u.default_billing_address_id
    LEFT JOIN account_address sa ON sa.id = u.default_shipping_address_id
"""

# Saleor's ``customers`` are users who are not staff, and staff members who placed orders.
CUSTOMER_WHERE = "(NOT u.is_staff OR EXISTS (SELECT 1 FROM order_order x WHERE x.user_id = u.id))"

CHECKOUT_BODY = _delivery(
    "CheckoutUpdated",
    _ts("k.last_change"),
    "checkout",
    f"""
    'id', {_gid("Checkout", "k.token")},
    'token', k.token::text,
    'created', {_ts("k.created_at")},
    'updatedAt', {_ts("k.last_change")},
    'lastChange', {_ts("k.last_change")},
    'email', k.email,
    'user', {USER_REF},
    'channel', {CHANNEL},
    'languageCode', {_lang("k.language_code")},
    'billingAddress', {_address("ba")},
    'shippingAddress', {_address("sa")},
    'totalPrice', {_taxed("k.total_gross_amount", "k.total_net_amount", "k.currency")},
    'lines', coalesce((
      SELECT json_agg(json_build_object(
        'quantity', l.quantity, 'variant', {VARIANT},
        'totalPrice', {
        _taxed("l.total_price_gross_amount", "l.total_price_net_amount", "k.currency")
    }) ORDER BY l.created_at, l.id)
      FROM checkout_checkoutline l {VARIANT_JOINS}
      WHERE l.checkout_id = k.token), '[]'::json)
""",
)

CHECKOUT_FROM = """
    checkout_checkout k
    JOIN channel_channel ch ON ch.id = k.channel_id
    LEFT JOIN account_user u ON u.id = k.user_id
    LEFT JOIN account_address ba ON ba.id = k.billing_address_id
    LEFT JOIN account_address sa ON sa.id = k.shipping_address_id
"""


@dataclass(frozen=True)
class Table:
    """One kind of Saleor row and the delivery each becomes."""

    name: str  # the BackfillCursor resource (``tables:`` keeps it apart from the API's)
    event: str
    key: str  # the primary key column, in the FROM's alias
    key_type: str  # its SQL type, to compare the saved cursor with
    body: str
    source: str
    where: str = "TRUE"


TABLES: tuple[Table, ...] = (
    Table("tables:customers", "customer_updated", "u.id", "integer", CUSTOMER_BODY,
          CUSTOMER_FROM, CUSTOMER_WHERE),
    Table("tables:orders", "order_updated", "o.id", "uuid", ORDER_BODY, ORDER_FROM),
    Table("tables:checkouts", "checkout_updated", "k.token", "uuid", CHECKOUT_BODY,
          CHECKOUT_FROM),
)  # fmt: skip


def chunk_sql(table: Table) -> str:
    """Store one chunk of ``table``'s rows after ``%(after)s`` in the inbox; return how many
    rows the chunk had, how many deliveries were new, and the chunk's last key."""
    return f"""
    WITH chunk AS (
      SELECT {table.key} AS key, convert_to(({table.body})::text, 'UTF8') AS body
      FROM {table.source}
      WHERE {table.where} AND (%(after)s::text IS NULL OR {table.key} > %(after)s::{table.key_type})
      ORDER BY {table.key}
      LIMIT %(limit)s
    ), stored AS (
      INSERT INTO crm_inbox_delivery (tenant_id, source, event, body, headers, body_hash,
        state, attempts, error_code, error_message, received_at)
      SELECT %(tenant)s, 'backfill', %(event)s, body, '{{}}'::jsonb,
        encode(sha256(body), 'hex'), 'pending', 0, '', '', now()
      FROM chunk
      ON CONFLICT DO NOTHING  -- the dedupe key (scaleout/partitions.py)
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM chunk), (SELECT count(*) FROM stored),
      (SELECT key::text FROM chunk ORDER BY key DESC LIMIT 1)
    """


Progress = Callable[[str, int, int | None], None]

_READS = (
    "order_order",
    "order_orderline",
    "account_user",
    "account_address",
    "channel_channel",
    "checkout_checkout",
    "checkout_checkoutline",
    "payment_transactionitem",
    "payment_payment",
    "payment_transaction",
    "product_productvariant",
    "product_product",
    "product_category",
)


def missing_tables() -> list[str]:
    """Saleor's tables this backfill reads that this database does not have."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NULL", [list(_READS)]
        )
        return [row[0] for row in cur.fetchall()]


def plugin_base_currency() -> str | None:
    """The base currency a merchant set in the plugin's settings in Saleor's dashboard."""
    if missing_tables() or not _has("plugins_pluginconfiguration"):
        return None
    with connection.cursor() as cur:
        cur.execute(
            "SELECT configuration FROM plugins_pluginconfiguration "
            "WHERE identifier = 'saleor.crm' AND channel_id IS NULL"
        )
        row = cur.fetchone()
    items = row[0] if row else []
    if isinstance(items, str):
        import json

        items = json.loads(items)
    from ..tenants.store_settings import parse

    return parse(items or None).base_currency


def _has(table: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        row = cur.fetchone()
    return bool(row and row[0])


def count_rows(table: Table) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table.source} WHERE {table.where}")
        row = cur.fetchone()
    return int(row[0]) if row else 0


def store_table(
    tenant: Tenant,
    table: Table,
    *,
    chunk: int = CHUNK,
    progress: Progress | None = None,
    after_chunk: Callable[[], None] | None = None,
) -> tuple[int, int, int, bool]:
    """Store every row of ``table`` not stored yet; (fetched, new, total, done)."""
    cursor, _ = BackfillCursor.objects.get_or_create(tenant=tenant, resource=table.name)
    total = count_rows(table)
    fetched = new = 0
    sql = chunk_sql(table)
    while not cursor.done:
        with transaction.atomic(), connection.cursor() as cur:
            params = {
                "after": cursor.after or None,
                "limit": chunk,
                "tenant": tenant.pk,
                "event": table.event,
            }
            cur.execute(sql, params)
            rows, stored, last = cur.fetchone() or (0, 0, None)
            cursor.after = last or cursor.after
            cursor.fetched += rows
            cursor.done = rows < chunk
            cursor.finished_at = timezone.now() if cursor.done else None
            cursor.save()
        fetched, new = fetched + rows, new + stored
        if after_chunk is not None:
            after_chunk()
        if progress is not None:
            progress(table.name.removeprefix("tables:"), cursor.fetched, total)
    return fetched, new, total, cursor.done

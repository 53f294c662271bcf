"""Applying a batch of canonical events to profiles, with a handful of statements per batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import connection

from ..catalogue import services as catalogue
from ..inbox.errors import PayloadError
from ..inbox.types import Event, Kind, Order
from ..money.errors import MissingRate
from ..money.rates import RateBook
from ..tenants.models import Tenant
from . import identity, records, traces
from .aggregates import refresh_profiles
from .events import entries_for, record_entries


def _fix_rates(
    tenant: Tenant, orders: Sequence[tuple[int, Order, datetime]]
) -> tuple[list[tuple[Order, datetime, Decimal]], dict[int, PayloadError]]:
    """The FX rate of each order: the one already fixed on it, else the one valid when it was
    placed. An order without a rate is refused (with the delivery it came in), never zeroed."""
    newest = records.newest([(o, i) for _, o, i in orders])
    fixed = records.fixed_rates(tenant.pk, [o.order_id for o, _ in newest])
    unfixed = [o for o, _ in newest if o.order_id not in fixed]
    book = None
    if unfixed:
        book = RateBook.load(
            tenant.base_currency,
            {o.currency for o in unfixed},
            min(o.created_at for o in unfixed),
            max(o.created_at for o in unfixed),
        )
    rows: list[tuple[Order, datetime, Decimal]] = []
    missing: dict[str, MissingRate] = {}
    for order, issued in newest:
        if order.order_id in fixed:
            rows.append((order, issued, fixed[order.order_id]))
            continue
        try:
            assert book is not None
            rows.append((order, issued, book.rate(order.currency, order.created_at)))
        except MissingRate as exc:
            missing[order.order_id] = exc
    failures = {
        delivery: PayloadError(str(missing[o.order_id]), code=MissingRate.code)
        for delivery, o, _ in orders
        if o.order_id in missing
    }
    return rows, failures


def _user_ids(event: Event) -> set[str]:
    return {
        x.user_id
        for x in (event.customer, event.order, event.checkout)
        if x is not None and x.user_id
    }


def _guest_email(event: Event) -> str:
    for x in (event.order, event.checkout):
        if x is not None and not x.user_id:
            return x.email
    return ""


def apply_events(tenant: Tenant, items: Sequence[tuple[int, Event]]) -> dict[int, PayloadError]:
    """Apply canonical events (tagged with their delivery id) to the tenant's profiles.

    Idempotent and order-independent: applying the same events again, or in another order,
    leaves the same profiles. Must run inside a transaction; the caller serializes batches of
    one tenant. Returns the deliveries that were refused, with the reason; the rest applied.

    A customer deletion queues the search of the stored bodies that name them: the caller runs
    ``traces.scrub_pending`` after commit, outside the store's lock (it reads every body).
    """
    t = tenant.pk
    order_items = [(d, e.order, e.issued_at) for d, e in items if e.order is not None]
    order_rows, failures = _fix_rates(tenant, order_items)
    usable = [(d, e) for d, e in items if d not in failures]

    deletions = [
        (e.customer.user_id, e.customer.email, e.issued_at)
        for _, e in usable
        if e.kind is Kind.CUSTOMER_DELETED and e.customer is not None
    ]
    identity.delete_customers(t, deletions, scrub_later=True)

    customers = [
        (e.customer, e.issued_at)
        for _, e in usable
        if e.kind is Kind.CUSTOMER_CHANGED and e.customer is not None
    ]
    checkouts = [
        (e.checkout, e.issued_at, e.kind is Kind.CHECKOUT_PAID)
        for _, e in usable
        if e.checkout is not None
    ]
    named = [(c.user_id, c.email) for c, _ in customers]
    named += [(o.user_id, o.email) for o, _, _ in order_rows if o.user_id]
    named += [(c.user_id, c.email) for c, _, _ in checkouts if c.user_id]
    dead = identity.deleted_user_ids(t, [u for u, _ in named])
    named = [(u, e) for u, e in named if u not in dead]

    identity.ensure_registered(t, named)
    identity.update_customers(t, [(c, i) for c, i in customers if c.user_id not in dead])
    guests = [o.email for o, _, _ in order_rows if not o.user_id]
    guests += [c.email for c, _, _ in checkouts if not c.user_id]
    identity.ensure_guests(t, guests)
    emails = {e for _, e in named} | set(guests)
    touched = identity.merge_guests_into_accounts(t, emails)

    touched |= records.upsert_orders(t, tenant.base_currency, order_rows)
    records.upsert_checkouts(t, checkouts)
    catalogue.remember(
        t,
        [(line, o.updated_at) for o, _, _ in order_rows for line in o.lines]
        + [(line, c.updated_at) for c, _, _ in checkouts for line in c.lines],
    )
    erased = identity.forget_erased_guest_activity(t, guests)
    identity.forget_erased_account_activity(t, dead)
    # Their deliveries name them (e-mail, names): keep only the hash, as erasure does.
    with connection.cursor() as cur:
        traces.empty_bodies(
            cur,
            [
                d
                for d, e in usable
                if _user_ids(e) & dead
                or (_guest_email(e) in erased and e.issued_at <= erased[_guest_email(e)])
            ],
        )
    record_entries(t, [entry for _, e in usable for entry in entries_for(e)])

    with connection.cursor() as cur:
        cur.execute(
            "SELECT id FROM crm_profile "
            "WHERE tenant_id = %s AND (user_id = ANY(%s) OR email = ANY(%s))",
            [t, sorted({u for u, _ in named}), sorted(emails)],
        )
        touched |= {row[0] for row in cur.fetchall()}
    refresh_profiles(touched)
    return failures

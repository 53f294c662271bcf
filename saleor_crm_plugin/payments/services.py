"""Applying stored Stripe events: a table of handlers by event type, each safe in any order.

Every handler records Stripe's state in a row that only moves forward (refunded amounts only
grow, disputes only go from open to closed, subscriptions follow the newest event) and then
lets the ledger and the tiers settle from those rows, so a duplicate, a replay or a late event
ends in the same place as the events in their real order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

from ..loyalty.ledger import sync_orders
from ..money.errors import MoneyError
from ..tenants.models import Tenant
from .amounts import from_stripe
from .errors import StripeEventError
from .models import DisputeStage

logger = logging.getLogger(__name__)


def orders_paid_by(tenant: Tenant, references: Sequence[str]) -> list[str]:
    """Orders whose payments carry any of these PSP references (PaymentIntent or charge id)."""
    refs = [r for r in references if r]
    if not refs:
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT order_id FROM crm_order "
            "WHERE tenant_id = %s AND psp_references && %s::varchar[]",
            [tenant.pk, refs],
        )
        return [row[0] for row in cur.fetchall()]


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return str(value) if value else ""


def charge_refunded(tenant: Tenant, event: dict[str, Any]) -> bool:
    """Record what Stripe refunded on a charge; the ledger reverses the order's points for the
    part Saleor has not reported yet (``effective refunded = max(Saleor's, Stripe's)``)."""
    charge = event["data"]["object"]
    charge_id = _text(charge, "id")
    if not charge_id:
        raise StripeEventError("charge has no id", code="stripe_missing_id")
    try:
        refunded, currency = from_stripe(charge.get("amount_refunded"), charge["currency"])
        amount, _ = from_stripe(charge.get("amount"), charge["currency"])
    except (KeyError, TypeError, ValueError, MoneyError) as exc:
        raise StripeEventError(
            f"charge amount or currency unusable: {exc}", code="stripe_amount"
        ) from exc
    intent = _text(charge, "payment_intent")
    with connection.cursor() as cur:
        # amount_refunded is cumulative: keep the largest seen, whatever order events come in.
        cur.execute(
            """
            INSERT INTO crm_stripe_charge (tenant_id, charge_id, payment_intent, currency,
              amount_minor, refunded_minor, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, now())
            ON CONFLICT (tenant_id, charge_id) DO UPDATE SET
              payment_intent = coalesce(nullif(EXCLUDED.payment_intent, ''),
                                        crm_stripe_charge.payment_intent),
              refunded_minor = greatest(crm_stripe_charge.refunded_minor, EXCLUDED.refunded_minor),
              updated_at = now()
            """,
            [tenant.pk, charge_id, intent, currency, amount, refunded],
        )
    orders = orders_paid_by(tenant, [charge_id, intent])
    sync_orders(tenant, orders)
    return bool(orders)


_CLOSED = {"won": DisputeStage.WON, "warning_closed": DisputeStage.WON, "lost": DisputeStage.LOST}
_RANK = {DisputeStage.OPEN: 0, DisputeStage.WON: 1, DisputeStage.LOST: 1}


def charge_dispute(tenant: Tenant, event: dict[str, Any]) -> bool:
    """A dispute opened holds the order's points; won releases exactly them; lost keeps them.

    The dispute row only moves forward (open, then won or lost), so ``created`` arriving after
    ``closed`` changes nothing; the ledger settles holds from the row (``ledger.sync_orders``).
    """
    dispute = event["data"]["object"]
    dispute_id, charge_id = _text(dispute, "id"), _text(dispute, "charge")
    if not dispute_id or not charge_id:
        raise StripeEventError("dispute without id or charge", code="stripe_missing_id")
    status = str(dispute.get("status") or "")
    stage = _CLOSED.get(status, DisputeStage.OPEN)
    try:
        amount, currency = from_stripe(dispute.get("amount"), dispute["currency"])
    except (KeyError, TypeError, ValueError, MoneyError) as exc:
        raise StripeEventError(
            f"dispute amount or currency unusable: {exc}", code="stripe_amount"
        ) from exc
    intent = _text(dispute, "payment_intent")
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_stripe_dispute AS d (tenant_id, dispute_id, charge_id, payment_intent,
              currency, amount_minor, status, stage, event_created, updated_at)
            VALUES (%(tenant)s, %(id)s, %(charge)s, %(intent)s, %(currency)s, %(amount)s,
                    %(status)s, %(stage)s, %(created)s, now())
            ON CONFLICT (tenant_id, dispute_id) DO UPDATE SET
              status = EXCLUDED.status, stage = EXCLUDED.stage,
              event_created = EXCLUDED.event_created, amount_minor = EXCLUDED.amount_minor,
              payment_intent = coalesce(nullif(EXCLUDED.payment_intent, ''), d.payment_intent),
              updated_at = now()
            WHERE d.stage = 'open'
              AND (EXCLUDED.stage <> 'open' OR EXCLUDED.event_created >= d.event_created)
            """,
            {
                "tenant": tenant.pk,
                "id": dispute_id,
                "charge": charge_id,
                "intent": intent,
                "currency": currency,
                "amount": amount,
                "status": status,
                "stage": stage.value,
                "created": int(event["created"]),
            },
        )
        cur.execute(
            "SELECT payment_intent FROM crm_stripe_charge WHERE tenant_id = %s AND charge_id = %s",
            [tenant.pk, charge_id],
        )
        known = [row[0] for row in cur.fetchall()]
    orders = orders_paid_by(tenant, [charge_id, intent, *known])
    sync_orders(tenant, orders)
    return bool(orders)


def _membership(tenant: Tenant, event: dict[str, Any]) -> bool:
    from .membership import record_subscription

    return record_subscription(tenant, event)


HANDLERS: dict[str, Callable[[Tenant, dict[str, Any]], bool]] = {
    "charge.refunded": charge_refunded,
    "charge.dispute.created": charge_dispute,
    "charge.dispute.updated": charge_dispute,
    "charge.dispute.closed": charge_dispute,
    "charge.dispute.funds_withdrawn": charge_dispute,
    "charge.dispute.funds_reinstated": charge_dispute,
    "customer.subscription.created": _membership,
    "customer.subscription.updated": _membership,
    "customer.subscription.deleted": _membership,
    "customer.subscription.paused": _membership,
    "customer.subscription.resumed": _membership,
}


def apply_event(tenant: Tenant, event: dict[str, Any]) -> bool | None:
    """Apply one Stripe event; None when the CRM has no use for its type. Raises
    StripeEventError for an event that cannot be used."""
    handler = HANDLERS.get(str(event.get("type")))
    if handler is None:
        return None
    try:
        return handler(tenant, event)
    except (KeyError, TypeError, AttributeError) as exc:
        raise StripeEventError(f"event content unusable: {exc!r}", code="stripe_payload") from exc

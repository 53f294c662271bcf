"""Stored Stripe events, applied in the same drain as Saleor's deliveries.

Stripe gives every event an id, so the door stores them deduplicated by it (``accept``'s
``dedupe_key``); here they are applied oldest first (Stripe's ``created``), each in its own
savepoint, so one unusable event is set aside with its reason and the others still land.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import DatabaseError, OperationalError, transaction

from ..payments.errors import StripeEventError
from ..payments.services import apply_event
from ..tenants.models import Tenant
from .models import Delivery, DeliveryState

STRIPE_SOURCE = "stripe"
Outcome = tuple[str, str, str]  # state, error code, message


def apply_stripe_deliveries(tenant: Tenant, deliveries: Sequence[Delivery]) -> dict[int, Outcome]:
    """Outcome per delivery. An event whose charge links to no order yet is PROCESSED all the
    same: its state is kept and counts as soon as the order arrives."""
    outcome: dict[int, Outcome] = {}
    events = []
    for delivery in deliveries:
        try:
            events.append((delivery.pk, json.loads(bytes(delivery.body))))
        except ValueError as exc:
            outcome[delivery.pk] = (DeliveryState.FAILED, "stripe_json", str(exc))
    for delivery_id, event in sorted(events, key=lambda e: (e[1].get("created") or 0, e[0])):
        try:
            with transaction.atomic():
                used = apply_event(tenant, event)
            state = DeliveryState.IGNORED if used is None else DeliveryState.PROCESSED
            outcome[delivery_id] = (state, "", "")
        except OperationalError:
            raise
        except StripeEventError as exc:
            outcome[delivery_id] = (DeliveryState.FAILED, exc.code, str(exc))
        except DatabaseError as exc:
            outcome[delivery_id] = (DeliveryState.FAILED, "database_rule", str(exc).splitlines()[0])
    return outcome

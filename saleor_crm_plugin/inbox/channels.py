"""Stored Twilio and WhatsApp webhooks (STOP/START replies, delivery failures), applied in the
same drain as Saleor's deliveries.

The doors keep the raw request first (signature already checked), so a reply is never lost to
a busy database and can be replayed; here each is applied in its own savepoint, as of when it
reached us (``received_at``), so one unusable body is set aside with its reason and the others
still land.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import parse_qsl

from django.db import DatabaseError, OperationalError, transaction

from ..messaging.inbound import apply_twilio, apply_whatsapp
from ..tenants.models import Tenant
from .models import Delivery, DeliveryState

TWILIO_SOURCE = "twilio"
WHATSAPP_SOURCE = "whatsapp"
SOURCES = (TWILIO_SOURCE, WHATSAPP_SOURCE)
Outcome = tuple[str, str, str]  # state, error code, message


def apply_channel_deliveries(tenant: Tenant, deliveries: Sequence[Delivery]) -> dict[int, Outcome]:
    outcome: dict[int, Outcome] = {}
    for delivery in sorted(deliveries, key=lambda d: (d.received_at, d.pk)):
        body = bytes(delivery.body)
        try:
            with transaction.atomic():
                if delivery.source == TWILIO_SOURCE:
                    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                    used = apply_twilio(tenant.pk, form, delivery.received_at)
                else:
                    used = apply_whatsapp(tenant.pk, json.loads(body), delivery.received_at)
            state = DeliveryState.PROCESSED if used else DeliveryState.IGNORED
            outcome[delivery.pk] = (state, "", "")
        except OperationalError:
            raise
        except ValueError as exc:
            outcome[delivery.pk] = (DeliveryState.FAILED, "malformed", str(exc))
        except DatabaseError as exc:
            outcome[delivery.pk] = (DeliveryState.FAILED, "database_rule", str(exc).splitlines()[0])
    return outcome

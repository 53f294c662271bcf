"""Predictions kept fresh between fits: a customer whose order arrives, is refunded or is
cancelled is rescored at once with the store's stored parameters.

The fit needs the whole store and runs with the recompute (nightly); scoring one customer
needs only their own orders and the stored model: BG/NBD's closed forms and the ``2F1`` series
for their single (x, T), Gamma-Gamma's weighted mean. It runs the same statements as the full
scoring (``services.score_customers``), restricted to the customers (their statistics computed
inline by the same SELECT, no temporary table), so a customer rescored now has exactly the
figures a full scoring with the same parameters would give them now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction

from ..tenants.models import Tenant
from .models import PredictionModel
from .services import score_customers


def rescore_customers(tenant: Tenant, profile_ids: Iterable[int], now: datetime) -> int:
    """Rescore these customers as of ``now`` with the store's stored model; a customer without
    a purchase any more loses their prediction. Returns how many were rescored: none before the
    store's first fit, nor with a fit stored before per-event rescoring (it lacks the store
    figures; the next recompute stores them). Atomic; a pure function of their orders, ``now``
    and the stored model, so replays and reordered deliveries cannot double-count."""
    ids = sorted({i for i in profile_ids if i is not None})
    if not ids:
        return 0
    model = PredictionModel.objects.filter(tenant=tenant).first()
    if model is None or model.store_value is None or model.store_rate is None:
        return 0
    with transaction.atomic(), connection.cursor() as cur:
        score_customers(cur, tenant, model, now, ids)
    return len(ids)

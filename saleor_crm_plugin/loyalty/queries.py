"""Reads of the points ledger for one order: what the order page's loyalty widget shows.

An order's points live on entries whose source is the order (``order`` or ``order@...`` for
each refund level and dispute) plus the bonuses it brought (first order, a referral's), which
name it in ``data.order_id``. Only the entries on the order's own customer are counted: a
referral's advocate bonus belongs to someone else's balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from ..profiles.models import OrderRecord, Profile
from ..tenants.models import Tenant


@dataclass(frozen=True)
class OrderPoints:
    """The points one order moved, by kind, and how its earn entry was computed.

    Reversed, voided and held are negative as on the ledger; released is positive (a won
    dispute gives back what was held). ``net`` is what the order adds to the balance now.
    """

    earned: int = 0
    bonus: int = 0
    reversed: int = 0
    voided: int = 0
    held: int = 0
    released: int = 0
    rules_version: int | None = None  # the earning rules' version in force when it was placed
    tier: str | None = None  # the tier whose multiplier applied
    multiplier: str | None = None
    available_at: datetime | None = None  # when the earned points leave the return window

    @property
    def net(self) -> int:
        return self.earned + self.bonus + self.reversed + self.voided + self.held + self.released


@dataclass(frozen=True)
class OrderRedemption:
    """The reward spent on an order: the points it cost, its code and what it was worth."""

    points: int  # positive: what the customer spent
    code: str
    amount_minor: int
    currency: str
    redeemed_at: datetime


@dataclass(frozen=True)
class OrderLoyalty:
    order: OrderRecord | None  # None: the CRM has not seen this order
    profile: Profile | None
    points: OrderPoints
    redemption: OrderRedemption | None = None


def order_loyalty(tenant: Tenant, order_id: str) -> OrderLoyalty:
    """The order's points and its customer; an order the CRM has not seen has neither."""
    order = (
        OrderRecord.objects.filter(tenant=tenant, order_id=order_id)
        .select_related("profile", "profile__tenant", "redemption")
        .first()
    )
    if order is None:
        return OrderLoyalty(None, None, OrderPoints())
    redemption = _redemption(order)
    profile = order.profile
    if profile is None:
        return OrderLoyalty(order, None, OrderPoints(), redemption)
    return OrderLoyalty(order, profile, _points(tenant.pk, profile.pk, order_id), redemption)


def _redemption(order: OrderRecord) -> OrderRedemption | None:
    entry = order.redemption
    if entry is None:
        return None
    voucher = entry.data.get("voucher") or {}
    return OrderRedemption(
        points=-entry.points,
        code=str(voucher.get("code", "")),
        amount_minor=int(voucher.get("amount_minor", 0)),
        currency=str(voucher.get("currency", "")),
        redeemed_at=entry.created_at,
    )


def _points(tenant_id: int, profile_id: int, order_id: str) -> OrderPoints:
    # One pass over the customer's entries (indexed by profile): the order's own, and bonuses
    # and their voids that name the order.
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT
              coalesce(sum(points) FILTER (WHERE source = 'order' AND kind = 'earn'), 0),
              coalesce(sum(points) FILTER (WHERE source <> 'order' AND kind = 'bonus'), 0)
                + coalesce(sum(points) FILTER (WHERE source <> 'order' AND kind = 'void'), 0),
              coalesce(sum(points) FILTER (WHERE source = 'order' AND kind = 'reverse'), 0),
              coalesce(sum(points) FILTER (WHERE source = 'order' AND kind = 'void'), 0),
              coalesce(sum(points) FILTER (WHERE source = 'order' AND kind = 'hold'), 0),
              coalesce(sum(points) FILTER (WHERE source = 'order' AND kind = 'release'), 0),
              max((data->>'rules_version')::int) FILTER (WHERE source = 'order' AND kind = 'earn'),
              max(data->>'tier') FILTER (WHERE source = 'order' AND kind = 'earn'),
              max(data->>'multiplier') FILTER (WHERE source = 'order' AND kind = 'earn'),
              max(available_at) FILTER (WHERE source = 'order' AND kind = 'earn')
            FROM crm_points_entry
            WHERE tenant_id = %(tenant)s AND profile_id = %(profile)s
              AND ((source = 'order' AND (source_id = %(order)s OR source_id LIKE %(prefix)s))
                   OR (source <> 'order' AND kind IN ('bonus', 'void')
                       AND data->>'order_id' = %(order)s))
            """,
            {
                "tenant": tenant_id,
                "profile": profile_id,
                "order": order_id,
                "prefix": _like_prefix(order_id),
            },
        )
        row = cur.fetchone()
    assert row is not None  # an aggregate always answers one row
    return OrderPoints(
        earned=int(row[0]),
        bonus=int(row[1]),
        reversed=int(row[2]),
        voided=int(row[3]),
        held=int(row[4]),
        released=int(row[5]),
        rules_version=row[6] or None,  # 0: the installation defaults
        tier=row[7],
        multiplier=row[8],
        available_at=row[9],
    )


def _like_prefix(order_id: str) -> str:
    """``order@%`` with LIKE's own characters in the id taken literally."""
    escaped = order_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "@%"

"""Turning points into a single-use Saleor voucher in the customer's channel currency.

The points are spent and the voucher is created in one database transaction: if Saleor refuses
or cannot be reached, the redemption is rolled back and the customer keeps the points. A
redemption id (the storefront's idempotency key) is spent once: asking again returns the same
voucher. The value of a point is set in the base currency and converted to the channel's
currency at today's rate, rounded down to the currency's minor units, so a reward never gives
away more than it is worth.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from ..conf import crm_settings
from ..money.currencies import from_minor, minor_units
from ..money.rates import RateBook
from ..tenants.models import Tenant
from .ledger import redeem
from .models import EntryKind, PointsEntry


class RewardError(Exception):
    """Saleor did not create the voucher; nothing was spent."""

    code = "reward_failed"


@dataclass(frozen=True)
class Channel:
    slug: str
    currency: str


@dataclass(frozen=True)
class Voucher:
    code: str
    amount_minor: int
    currency: str
    saleor_id: str
    points: int


class VoucherIssuer(Protocol):
    """Creates a single-use voucher in Saleor: through its API (app) or its ORM (plugin)."""

    def issue(self, *, code: str, amount: Decimal, channel: Channel, name: str) -> str: ...


def voucher_value(tenant: Tenant, points: int, currency: str, at: datetime | None = None) -> int:
    """Minor units of ``currency`` that ``points`` are worth today, rounded down."""
    base_value = Decimal(points) * crm_settings.LOYALTY_POINT_VALUE
    moment = at or timezone.now()
    rate = RateBook.load(tenant.base_currency, {currency}, moment, moment).rate(currency, moment)
    amount = (base_value / rate).quantize(
        Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_DOWN
    )
    return int(amount.scaleb(minor_units(currency)))


@dataclass(frozen=True)
class RewardOption:
    points: int
    amount_minor: int  # what the voucher is worth in the channel's currency today
    currency: str
    missing_points: int  # 0 when the customer can redeem it now


def catalogue(tenant: Tenant, available: int, currency: str) -> list[RewardOption]:
    """The rewards a customer can aim for (``CRM_LOYALTY_REWARDS``), valued in their channel's
    currency at today's rate, with what is still missing for each."""
    return [
        RewardOption(points, voucher_value(tenant, points, currency), currency,
                     max(0, points - available))
        for points in crm_settings.LOYALTY_REWARDS
    ]  # fmt: skip


def redeem_for_voucher(
    tenant: Tenant,
    profile_id: int,
    points: int,
    *,
    channel: Channel,
    redemption_id: str,
    issuer: VoucherIssuer,
) -> Voucher:
    """Spend ``points`` on a voucher; raises NotEnoughPoints or RewardError, spending nothing."""
    done = PointsEntry.objects.filter(
        tenant=tenant, source="redemption", source_id=redemption_id, kind=EntryKind.REDEEM
    ).first()
    if done is not None and done.data.get("voucher"):
        return _voucher(done)
    amount_minor = voucher_value(tenant, points, channel.currency)
    if amount_minor <= 0:
        raise RewardError(f"{points} points are worth less than 1 {channel.currency} minor unit")
    code = "CRM-" + secrets.token_hex(5).upper()
    with transaction.atomic():
        entry = redeem(tenant, profile_id, points, redemption_id=redemption_id, reason="voucher")
        try:
            saleor_id = issuer.issue(
                code=code,
                amount=from_minor(amount_minor, channel.currency),
                channel=channel,
                name=f"Loyalty reward ({points} points)",
            )
        except RewardError:
            raise
        except Exception as exc:  # any failure of Saleor's side undoes the redemption
            raise RewardError(f"Saleor did not create the voucher: {exc}") from exc
        entry.data = {
            "voucher": {
                "code": code,
                "amount_minor": amount_minor,
                "currency": channel.currency,
                "channel": channel.slug,
                "saleor_id": saleor_id,
            }
        }
        entry.save(update_fields=["data"])
    return _voucher(entry)


def _voucher(entry: PointsEntry) -> Voucher:
    v = entry.data["voucher"]
    return Voucher(v["code"], v["amount_minor"], v["currency"], v["saleor_id"], -entry.points)

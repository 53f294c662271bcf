"""Turning points into a single-use Saleor voucher, or a gift card, in the channel currency.

Each package of the store's catalogue (its earning rules, ``earning.py``) is a voucher unless
the merchant made it a gift card ("2500:gift_card"): a card with that balance, usable until
spent, also on later orders. The points are spent and the voucher or gift card is created in one
database transaction: if Saleor refuses or cannot be reached, the redemption is rolled back and
the customer keeps the points. A redemption id (the storefront's idempotency key) is spent once:
asking again returns the same voucher or gift card. The value of a point is set in the base
currency and converted to the channel's currency at today's rate, rounded down to the currency's
minor units, so a reward never gives away more than it is worth.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from ..money.currencies import from_minor, minor_units
from ..money.rates import RateBook
from ..tenants.models import Tenant
from . import earning
from .ledger import redeem
from .models import EntryKind, PointsEntry


class RewardError(Exception):
    """Saleor did not create the voucher; nothing was spent."""

    code = "reward_failed"


@dataclass(frozen=True)
class Channel:
    slug: str
    currency: str


VOUCHER, GIFT_CARD = "voucher", "gift_card"


@dataclass(frozen=True)
class Voucher:
    """What a redemption gave: a voucher or a gift card (``kind``) and its code."""

    code: str
    amount_minor: int
    currency: str
    saleor_id: str
    points: int
    kind: str = VOUCHER


class VoucherIssuer(Protocol):
    """Creates rewards in Saleor: through its API (app) or its ORM (plugin)."""

    def issue(self, *, code: str, amount: Decimal, channel: Channel, name: str) -> str:
        """A single-use voucher with ``code``; returns its Saleor id."""
        ...

    def issue_gift_card(self, *, amount: Decimal, channel: Channel, name: str) -> tuple[str, str]:
        """A gift card with ``amount`` in the channel's currency; returns (Saleor id, code)."""
        ...


def reward_kind(tenant: Tenant, points: int) -> str:
    """The store's catalogue's kind for a package of ``points``; any other amount is a voucher."""
    return earning.rules_for(tenant).reward_kind(points)


def voucher_value(
    tenant: Tenant,
    points: int,
    currency: str,
    at: datetime | None = None,
    point_value: Decimal | None = None,
) -> int:
    """Minor units of ``currency`` that ``points`` are worth today, rounded down (a point is
    worth the store's ``point_value`` in the base currency)."""
    value = point_value if point_value is not None else earning.rules_for(tenant).point_value
    base_value = Decimal(points) * value
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
    kind: str = VOUCHER


def catalogue(tenant: Tenant, available: int, currency: str) -> list[RewardOption]:
    """The rewards a customer can aim for (the store's earning rules), valued in their channel's
    currency at today's rate, with what is still missing for each."""
    rules = earning.rules_for(tenant)
    return [
        RewardOption(points, voucher_value(tenant, points, currency, point_value=rules.point_value),
                     currency, max(0, points - available), kind)
        for points, kind in rules.rewards
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
    """Spend ``points`` on the catalogue's reward for them (a voucher unless the package is a
    gift card); raises NotEnoughPoints or RewardError, spending nothing."""
    done = PointsEntry.objects.filter(
        tenant=tenant, source="redemption", source_id=redemption_id, kind=EntryKind.REDEEM
    ).first()
    if done is not None and (done.data.get(VOUCHER) or done.data.get(GIFT_CARD)):
        return _voucher(done)
    rules = earning.rules_for(tenant)
    kind = rules.reward_kind(points)
    amount_minor = voucher_value(tenant, points, channel.currency, point_value=rules.point_value)
    if amount_minor <= 0:
        raise RewardError(f"{points} points are worth less than 1 {channel.currency} minor unit")
    amount = from_minor(amount_minor, channel.currency)
    name = f"Loyalty reward ({points} points)"
    with transaction.atomic():
        entry = redeem(tenant, profile_id, points, redemption_id=redemption_id, reason=kind)
        try:
            if kind == GIFT_CARD:
                saleor_id, code = issuer.issue_gift_card(amount=amount, channel=channel, name=name)
            else:
                code = "CRM-" + secrets.token_hex(5).upper()
                saleor_id = issuer.issue(code=code, amount=amount, channel=channel, name=name)
        except RewardError:
            raise
        except Exception as exc:  # any failure of Saleor's side undoes the redemption
            raise RewardError(f"Saleor did not create the {kind}: {exc}") from exc
        entry.data = {
            kind: {
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
    kind = GIFT_CARD if entry.data.get(GIFT_CARD) else VOUCHER
    v = entry.data[kind]
    return Voucher(v["code"], v["amount_minor"], v["currency"], v["saleor_id"], -entry.points, kind)

"""Points on a customer's profile: what crmMe and crmCustomer show of the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import graphene
from promise import Promise
from promise.dataloader import DataLoader

from ...loyalty.ledger import Balance, balances
from ...loyalty.models import PointsEntry
from ...loyalty.rewards import catalogue
from ...money.errors import MissingRate
from ...profiles.models import Profile
from ...profiles.queries import channel_currency
from ..core.context import crm_context
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.money import CRMMoney, money
from ..core.permissions import MANAGE_USERS

HISTORY_LIMIT = 100


class PointsBalanceLoader(DataLoader):  # type: ignore[misc]
    """Balances of a whole page of customers in one query."""

    context_key = "points_balance"

    def batch_load_fn(self, keys: Sequence[int]) -> Any:
        found = balances(keys)
        return Promise.resolve([found[key] for key in keys])


class CRMPointsEntry(graphene.ObjectType):
    kind = graphene.String(
        required=True,
        description="earn, reverse, void, redeem, expire, adjust, bonus, hold or release.",
    )
    points = graphene.Int(required=True, description="Positive when earned, negative when spent.")
    created_at = graphene.DateTime(required=True)
    available_at = graphene.DateTime(
        required=True, description="When the points count (an order's: after its return window)."
    )
    reason = graphene.String(required=True)
    actor = graphene.String(
        description="Who made a staff adjustment (e-mail, or the app). Shown to holders of "
        "MANAGE_USERS only; null for everyone else and for entries nobody made by hand."
    )
    order_id = graphene.String(description="Saleor id of the order it belongs to, if any.")

    @staticmethod
    def resolve_actor(root: PointsEntry, info: Any) -> str | None:
        if not crm_context(info).principal.has(MANAGE_USERS):
            return None
        return root.actor or None

    @staticmethod
    def resolve_order_id(root: PointsEntry, info: Any) -> str | None:
        return root.source_id.split("@")[0] if root.source == "order" else None


class CRMPoints(graphene.ObjectType):
    available = graphene.Int(required=True, description="Points that can be redeemed now.")
    pending = graphene.Int(
        required=True, description="Points of orders still inside the store's return window."
    )
    history = graphene.List(
        graphene.NonNull(CRMPointsEntry),
        required=True,
        first=graphene.Int(default_value=20, description=f"At most {HISTORY_LIMIT}."),
        description="Ledger entries, newest first.",
    )

    @staticmethod
    def resolve_available(root: tuple[Profile, Balance], info: Any) -> int:
        return root[1].available

    @staticmethod
    def resolve_pending(root: tuple[Profile, Balance], info: Any) -> int:
        return root[1].pending

    @staticmethod
    def resolve_history(root: tuple[Profile, Balance], info: Any, first: int) -> list[PointsEntry]:
        limit = max(0, min(first, HISTORY_LIMIT))
        entries = PointsEntry.objects.filter(profile=root[0]).order_by("-created_at", "-id")
        return list(entries[:limit])


def resolve_points(profile: Profile, info: Any) -> Promise:
    loader = crm_context(info).loader(PointsBalanceLoader)
    return loader.load(profile.pk).then(lambda balance: (profile, balance))


def points_field() -> graphene.Field:
    return graphene.Field(CRMPoints, required=True, description="The customer's loyalty points.")


class CRMRewardKind(graphene.Enum):
    VOUCHER = "voucher"
    GIFT_CARD = "gift_card"

    @property
    def description(self) -> str:
        if self == CRMRewardKind.GIFT_CARD:
            return "A Saleor gift card with this balance, usable until spent."
        return "A single-use voucher: a fixed discount on one order."


class CRMReward(graphene.ObjectType):
    points = graphene.Int(required=True)
    kind = graphene.Field(CRMRewardKind, required=True)
    value = graphene.Field(CRMMoney, required=True, description="In the channel's currency.")
    missing_points = graphene.Int(required=True, description="0 when it can be redeemed now.")


def rewards_field() -> graphene.List:
    return graphene.List(
        graphene.NonNull(CRMReward),
        required=True,
        channel=graphene.String(required=True, description="Slug of the storefront's channel."),
        description="Rewards the customer can redeem or aim for, valued in the channel currency.",
    )


def resolve_rewards(profile: Profile, info: Any, channel: str) -> list[CRMReward]:
    currency = channel_currency(profile.tenant, channel)
    if currency is None:
        raise InvalidInput(f"Unknown channel {channel!r}.", field="channel")
    available = balances([profile.pk])[profile.pk].available
    try:
        options = catalogue(profile.tenant, available, currency)
    except MissingRate as exc:
        raise CRMGraphQLError(str(exc), code=exc.code) from exc
    return [
        CRMReward(
            points=o.points,
            value=money(o.amount_minor, o.currency),
            missing_points=o.missing_points,
            kind=o.kind,
        )
        for o in options
    ]

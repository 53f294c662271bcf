"""crmOrderLoyalty: the points one order moved, for the loyalty widget on Saleor's order page."""

from __future__ import annotations

from typing import Any

import graphene

from ...loyalty.queries import OrderLoyalty, order_loyalty
from ..core.errors import InvalidInput
from ..core.money import CRMMoney, money
from ..core.permissions import MANAGE_USERS, require_permission
from ..profiles.types import CRMCustomer


class CRMOrderLoyaltyStatus(graphene.Enum):
    CUSTOMER = "customer"
    GUEST = "guest"
    UNKNOWN = "unknown"

    @property
    def description(self) -> str:
        if self == CRMOrderLoyaltyStatus.GUEST:
            return "Placed without an account: points wait on the e-mail's guest profile."
        if self == CRMOrderLoyaltyStatus.UNKNOWN:
            return "The CRM has not received this order (yet)."
        return "Placed by a customer with an account."


class CRMOrderRedemption(graphene.ObjectType):
    points = graphene.Int(required=True, description="The points spent on the reward; positive.")
    code = graphene.String(required=True, description="The reward voucher's code.")
    value = graphene.Field(CRMMoney, required=True, description="What the voucher was worth.")
    redeemed_at = graphene.DateTime(required=True, description="When the points were spent.")


class CRMOrderLoyalty(graphene.ObjectType):
    order_id = graphene.ID(required=True)
    number = graphene.String(description="Saleor's order number; null when unknown.")
    status = graphene.Field(CRMOrderLoyaltyStatus, required=True)
    earned = graphene.Int(required=True, description="What the order earned (0 when none).")
    bonus = graphene.Int(
        required=True, description="Bonuses it brought (first order, referral), net of voids."
    )
    reversed = graphene.Int(required=True, description="Taken back for refunds; negative.")
    voided = graphene.Int(required=True, description="Taken back on cancellation; negative.")
    held = graphene.Int(required=True, description="Held while a payment is disputed; negative.")
    released = graphene.Int(required=True, description="Given back by won disputes.")
    net = graphene.Int(required=True, description="What the order adds to the balance now.")
    pending_until = graphene.DateTime(
        description="When the earned points leave the return window and can be spent."
    )
    rules_version = graphene.Int(
        description="The earning rules' version it earned by; null for the defaults or none."
    )
    tier = graphene.String(description="The tier whose multiplier applied when it earned.")
    multiplier = graphene.String(description="That tier's multiplier, e.g. 1.5.")
    customer = graphene.Field(
        CRMCustomer, description="The customer (balance, tier); null for an unknown order."
    )
    redemption = graphene.Field(
        CRMOrderRedemption,
        description="The CRM reward voucher used on this order (its code is the order's "
        "voucher code); null when none was. Gift cards are not traced.",
    )


def _shown(order_id: str, found: OrderLoyalty) -> CRMOrderLoyalty:
    points = found.points
    if found.order is None:
        status = CRMOrderLoyaltyStatus.UNKNOWN
    elif found.profile is None or found.profile.is_guest:
        status = CRMOrderLoyaltyStatus.GUEST
    else:
        status = CRMOrderLoyaltyStatus.CUSTOMER
    return CRMOrderLoyalty(
        order_id=order_id,
        number=found.order.number if found.order is not None else None,
        status=status,
        earned=points.earned,
        bonus=points.bonus,
        reversed=points.reversed,
        voided=points.voided,
        held=points.held,
        released=points.released,
        net=points.net,
        pending_until=points.available_at,
        rules_version=points.rules_version,
        tier=points.tier,
        multiplier=points.multiplier,
        customer=found.profile,
        redemption=_redemption(found),
    )


def _redemption(found: OrderLoyalty) -> CRMOrderRedemption | None:
    spent = found.redemption
    if spent is None:
        return None
    return CRMOrderRedemption(
        points=spent.points,
        code=spent.code,
        value=money(spent.amount_minor, spent.currency),
        redeemed_at=spent.redeemed_at,
    )


class OrderLoyaltyQueries(graphene.ObjectType):
    crm_order_loyalty = graphene.Field(
        CRMOrderLoyalty,
        required=True,
        order_id=graphene.ID(required=True, description="Saleor's Order id."),
        description="The points an order earned, held and gave back, and its customer's "
        "balance and tier. MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_order_loyalty(root: Any, info: Any, order_id: str) -> CRMOrderLoyalty:
        tenant = require_permission(info, MANAGE_USERS)
        order_id = order_id.strip()
        if not order_id or len(order_id) > 128:
            raise InvalidInput("Give Saleor's order id, e.g. T3JkZXI6...", field="orderId")
        return _shown(order_id, order_loyalty(tenant, order_id))

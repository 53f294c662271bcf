"""crmRedeemPoints: a signed-in customer turns points into a Saleor voucher."""

from __future__ import annotations

from typing import Any

import graphene

from ...loyalty import rewards
from ...loyalty.issuers import SaleorAPIIssuer, SaleorORMIssuer
from ...loyalty.ledger import NotEnoughPoints, balance_of
from ...profiles.queries import channel_currency, find_profile
from ...tenants.services import PLUGIN_TENANT_URL, app_token
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import require_customer
from ..profiles.types import CRMMoney, money


class CRMRedeemPointsResult(graphene.ObjectType):
    voucher_code = graphene.String(required=True, description="Enter it at checkout; one use.")
    amount = graphene.Field(CRMMoney, required=True, description="In the channel's currency.")
    points_spent = graphene.Int(required=True)
    points_available = graphene.Int(required=True, description="Left after this redemption.")


def issuer_for(tenant: Any) -> rewards.VoucherIssuer:
    if tenant.saleor_api_url == PLUGIN_TENANT_URL:
        return SaleorORMIssuer()
    token = app_token(tenant)
    if not token:
        raise CRMGraphQLError("The store's app token is unavailable; try again later.")
    return SaleorAPIIssuer(tenant.saleor_api_url, token)


class LoyaltyMutations(graphene.ObjectType):
    crm_redeem_points = graphene.Field(
        CRMRedeemPointsResult,
        points=graphene.Int(required=True),
        channel=graphene.String(required=True, description="Slug of the storefront's channel."),
        idempotency_key=graphene.String(
            required=True, description="The same key returns the same voucher, spent once."
        ),
        description="Spend the signed-in customer's available points on a single-use voucher.",
    )

    @staticmethod
    def resolve_crm_redeem_points(
        root: Any, info: Any, points: int, channel: str, idempotency_key: str
    ) -> CRMRedeemPointsResult:
        tenant, user_id = require_customer(info)
        if points <= 0:
            raise InvalidInput("Redeem a positive number of points.", field="points")
        if not 8 <= len(idempotency_key) <= 64:
            raise InvalidInput(
                "Give an idempotency key of 8-64 characters.", field="idempotencyKey"
            )
        profile = find_profile(tenant, user_id=user_id)
        currency = channel_currency(tenant, channel)
        if profile is None:
            raise CRMGraphQLError("You have no points yet.", code="not_enough_points")
        if currency is None:
            raise InvalidInput(f"Unknown channel {channel!r}.", field="channel")
        try:
            voucher = rewards.redeem_for_voucher(
                tenant,
                profile.pk,
                points,
                channel=rewards.Channel(channel, currency),
                redemption_id=f"{user_id}:{idempotency_key}",
                issuer=issuer_for(tenant),
            )
        except NotEnoughPoints as exc:
            raise CRMGraphQLError(str(exc), field="points", code=exc.code) from exc
        except rewards.RewardError as exc:
            raise CRMGraphQLError(
                "The voucher could not be created; your points were not spent.",
                code=exc.code,
            ) from exc
        return CRMRedeemPointsResult(
            voucher_code=voucher.code,
            amount=money(voucher.amount_minor, voucher.currency),
            points_spent=voucher.points,
            points_available=balance_of(profile.pk).available,
        )

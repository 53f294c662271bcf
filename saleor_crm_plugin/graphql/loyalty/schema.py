"""crmRedeemPoints: a signed-in customer turns points into a Saleor voucher."""

from __future__ import annotations

from datetime import date
from typing import Any

import graphene
from django.utils import timezone

from ...loyalty import rewards
from ...loyalty.issuers import SaleorAPIIssuer, SaleorORMIssuer
from ...loyalty.ledger import NotEnoughPoints, adjust, balance_of
from ...loyalty.models import Birthday
from ...profiles.queries import channel_currency, find_profile
from ...tenants.services import PLUGIN_TENANT_URL, app_token
from ..core.context import crm_context
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.money import CRMMoney, money
from ..core.permissions import MANAGE_USERS, require_customer, require_permission
from .types import CRMPointsEntry, CRMRewardKind


class CRMRedeemPointsResult(graphene.ObjectType):
    kind = graphene.Field(CRMRewardKind, required=True)
    code = graphene.String(
        required=True, description="The voucher's or gift card's code, to enter at checkout."
    )
    voucher_code = graphene.String(description="The code when the reward is a voucher; one use.")
    gift_card_code = graphene.String(
        description="The code when the reward is a gift card; usable until its balance is spent."
    )
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


class CRMPointsAdjustResult(graphene.ObjectType):
    entry = graphene.Field(CRMPointsEntry, required=True)
    points_available = graphene.Int(required=True)
    points_pending = graphene.Int(required=True)


class LoyaltyMutations(graphene.ObjectType):
    crm_points_adjust = graphene.Field(
        CRMPointsAdjustResult,
        email=graphene.String(),
        user_id=graphene.ID(description="Saleor User id."),
        points=graphene.Int(required=True, description="Positive to add, negative to deduct."),
        reason=graphene.String(required=True, description="Kept on the entry, with who did it."),
        adjustment_id=graphene.String(
            required=True, description="The same id is applied once (safe to retry)."
        ),
        description="Correct a customer's points by hand. Requires MANAGE_USERS.",
    )

    @staticmethod
    def resolve_crm_points_adjust(
        root: Any,
        info: Any,
        points: int,
        reason: str,
        adjustment_id: str,
        email: str = "",
        user_id: str | None = None,
    ) -> CRMPointsAdjustResult:
        tenant = require_permission(info, MANAGE_USERS)
        if bool(email) == bool(user_id):
            raise InvalidInput("Give exactly one of email or userId.", field="email")
        if points == 0:
            raise InvalidInput("Adjust by a number of points other than 0.", field="points")
        if not reason.strip():
            raise InvalidInput("Say why: the reason is kept on the ledger.", field="reason")
        profile = find_profile(tenant, user_id=user_id, email=email)
        if profile is None:
            raise InvalidInput("No such customer in the CRM.", field="email" if email else "userId")
        principal = crm_context(info).principal
        actor = principal.email or f"{principal.kind.value}:{principal.user_id or ''}"
        try:
            entry = adjust(
                tenant, profile.pk, points, reason=reason, actor=actor,
                adjustment_id=adjustment_id,
            )  # fmt: skip
        except NotEnoughPoints as exc:
            raise CRMGraphQLError(str(exc), field="points", code=exc.code) from exc
        balance = balance_of(profile.pk)
        return CRMPointsAdjustResult(
            entry=entry, points_available=balance.available, points_pending=balance.pending
        )

    crm_redeem_points = graphene.Field(
        CRMRedeemPointsResult,
        points=graphene.Int(required=True),
        channel=graphene.String(required=True, description="Slug of the storefront's channel."),
        idempotency_key=graphene.String(
            required=True, description="The same key returns the same voucher, spent once."
        ),
        description=(
            "Spend the signed-in customer's available points on the catalogue's reward for them: "
            "a single-use voucher, or a gift card where the store offers one."
        ),
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
            gift = rewards.reward_kind(tenant, points) == rewards.GIFT_CARD
            what = "gift card" if gift else "voucher"
            raise CRMGraphQLError(
                f"The {what} could not be created; your points were not spent.",
                code=exc.code,
            ) from exc
        gift_card = voucher.kind == rewards.GIFT_CARD
        return CRMRedeemPointsResult(
            kind=voucher.kind,
            code=voucher.code,
            voucher_code=None if gift_card else voucher.code,
            gift_card_code=voucher.code if gift_card else None,
            amount=money(voucher.amount_minor, voucher.currency),
            points_spent=voucher.points,
            points_available=balance_of(profile.pk).available,
        )


class CRMSetBirthdayResult(graphene.ObjectType):
    month = graphene.Int(required=True)
    day = graphene.Int(required=True)


class BirthdayMutations(graphene.ObjectType):
    crm_set_birthday = graphene.Field(
        CRMSetBirthdayResult,
        month=graphene.Int(required=True),
        day=graphene.Int(required=True),
        description=(
            "The signed-in customer gives their birthday (month and day, no year) for the "
            "birthday bonus. Set once; the shop can correct it."
        ),
    )

    @staticmethod
    def resolve_crm_set_birthday(
        root: Any, info: Any, month: int, day: int
    ) -> CRMSetBirthdayResult:
        tenant, user_id = require_customer(info)
        try:
            date(2000, month, day)  # a leap year: 29 February is a birthday too
        except ValueError as exc:
            raise InvalidInput("Give a real month and day, e.g. 5 and 17.", field="day") from exc
        profile = find_profile(tenant, user_id=user_id)
        if profile is None:
            raise CRMGraphQLError("There is no CRM profile for you yet.", code="no_profile")
        birthday, created = Birthday.objects.get_or_create(
            profile=profile,
            defaults={"tenant": tenant, "month": month, "day": day, "set_at": timezone.now()},
        )
        if not created and (birthday.month, birthday.day) != (month, day):
            raise CRMGraphQLError(
                "Your birthday is already set; ask the shop to correct it.", code="already_set"
            )
        return CRMSetBirthdayResult(month=birthday.month, day=birthday.day)

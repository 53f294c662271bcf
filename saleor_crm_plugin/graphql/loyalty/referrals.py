"""Referral link on crmMe, and the storefront's claim when a referred friend gives an e-mail."""

from __future__ import annotations

from typing import Any

import graphene

from ...loyalty import referrals
from ...profiles.models import Profile
from ..core.context import crm_context, storefront_tenant
from ..core.errors import InvalidInput


class CRMReferral(graphene.ObjectType):
    code = graphene.String(required=True, description="The customer's own referral code.")
    link = graphene.String(
        required=True, description="The storefront link to share (empty until configured)."
    )


def resolve_referral(profile: Profile, info: Any) -> CRMReferral:
    code = referrals.code_for(profile)
    return CRMReferral(code=code, link=referrals.link_for(code))


class CRMReferralClaimResult(graphene.ObjectType):
    accepted = graphene.Boolean(required=True)
    reason = graphene.String(
        description="Why it was refused: self_referral, not_a_new_customer, too_many_from_ip."
    )


class ReferralMutations(graphene.ObjectType):
    crm_referral_claim = graphene.Field(
        CRMReferralClaimResult,
        code=graphene.String(required=True),
        email=graphene.String(required=True, description="The friend's e-mail."),
        saleor_api_url=graphene.String(description="Which store, for anonymous storefronts."),
        description=(
            "A friend arriving with a referral code gives their e-mail (sign-up or checkout); "
            "both are rewarded with points when the friend's first order is past its return "
            "window. No sign-in needed."
        ),
    )

    @staticmethod
    def resolve_crm_referral_claim(
        root: Any, info: Any, code: str, email: str, saleor_api_url: str | None = None
    ) -> CRMReferralClaimResult:
        tenant = storefront_tenant(info, saleor_api_url)
        try:
            referral = referrals.claim(tenant, code, email, crm_context(info).client_ip or None)
        except referrals.UnknownCode as exc:
            raise InvalidInput(str(exc), field="code") from exc
        refused = referral.status == "refused"
        return CRMReferralClaimResult(accepted=not refused, reason=referral.reason or None)

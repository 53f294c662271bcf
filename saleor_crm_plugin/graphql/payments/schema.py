"""Stripe: the store's account (staff) and paid membership (the signed-in customer)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import graphene

from ...conf import crm_settings
from ...payments.accounts import credentials, set_account
from ...payments.errors import StripeNotConfigured
from ...payments.membership import MembershipError, MembershipState, membership_of, start_checkout
from ...profiles.models import Profile
from ...profiles.queries import find_profile
from ..core.context import crm_context
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import MANAGE_SETTINGS, require_customer, require_permission


class CRMMembership(graphene.ObjectType):
    tier = graphene.String(required=True)
    status = graphene.String(
        required=True, description="Stripe's subscription status, e.g. active or canceled."
    )
    active = graphene.Boolean(required=True, description="True while it holds the tier.")
    renews_at = graphene.DateTime(description="Next renewal, while it runs and renews.")
    ends_at = graphene.DateTime(description="When it ends (cancelled at period end) or ended.")


def resolve_membership(profile: Profile, info: Any) -> MembershipState | None:
    return membership_of(profile)


class CRMMembershipCheckout(graphene.ObjectType):
    url = graphene.String(required=True, description="Send the customer here to pay.")
    session_id = graphene.String(required=True, description="Stripe's Checkout Session id.")


class CRMStripeAccount(graphene.ObjectType):
    webhook_url = graphene.String(
        required=True,
        description="Add this endpoint in Stripe's dashboard (Developers > Webhooks).",
    )
    has_secret_key = graphene.Boolean(required=True)
    has_webhook_secret = graphene.Boolean(required=True)


def _web_url(value: str, field: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidInput("Give a full http(s) URL.", field=field)
    return value.strip()


class PaymentsMutations(graphene.ObjectType):
    crm_membership_checkout = graphene.Field(
        CRMMembershipCheckout,
        tier=graphene.String(required=True, description="A tier sold with a Stripe price."),
        success_url=graphene.String(required=True),
        cancel_url=graphene.String(required=True),
        description="Start paying for a tier as a Stripe subscription; returns Stripe's URL.",
    )
    crm_stripe_account_set = graphene.Field(
        CRMStripeAccount,
        secret_key=graphene.String(description="sk_... or rk_...; omit to keep, empty to clear."),
        webhook_secret=graphene.String(description="whsec_...; omit to keep, empty to clear."),
        description="The store's Stripe account, stored encrypted. Requires MANAGE_SETTINGS.",
    )

    @staticmethod
    def resolve_crm_membership_checkout(
        root: Any, info: Any, tier: str, success_url: str, cancel_url: str
    ) -> CRMMembershipCheckout:
        tenant, user_id = require_customer(info)
        success, cancel = _web_url(success_url, "successUrl"), _web_url(cancel_url, "cancelUrl")
        profile = find_profile(tenant, user_id=user_id)
        if profile is None:
            raise CRMGraphQLError("There is no CRM profile for you yet.", code="no_profile")
        try:
            link = start_checkout(tenant, profile, tier, success_url=success, cancel_url=cancel)
        except StripeNotConfigured as exc:
            raise CRMGraphQLError(str(exc), code=exc.code) from exc
        except MembershipError as exc:
            field = "tier" if exc.code == "tier_not_for_sale" else None
            raise CRMGraphQLError(str(exc), field=field, code=exc.code) from exc
        return CRMMembershipCheckout(url=link.url, session_id=link.session_id)

    @staticmethod
    def resolve_crm_stripe_account_set(
        root: Any, info: Any, secret_key: str | None = None, webhook_secret: str | None = None
    ) -> CRMStripeAccount:
        tenant = require_permission(info, MANAGE_SETTINGS)
        if secret_key and not secret_key.startswith(("sk_", "rk_")):
            raise InvalidInput("A Stripe secret key starts with sk_ or rk_.", field="secretKey")
        if webhook_secret and not webhook_secret.startswith("whsec_"):
            raise InvalidInput("A signing secret starts with whsec_.", field="webhookSecret")
        principal = crm_context(info).principal
        set_account(
            tenant,
            api_key=secret_key,
            webhook_secret=webhook_secret,
            by=principal.email or principal.kind.value,
        )
        found = credentials(tenant)
        base = crm_settings.PUBLIC_URL or ""
        return CRMStripeAccount(
            webhook_url=f"{base}/api/stripe/{tenant.pk}/webhooks",
            has_secret_key=bool(found.api_key),
            has_webhook_secret=bool(found.webhook_secret),
        )

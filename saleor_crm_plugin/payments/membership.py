"""Paid membership: a tier bought as a Stripe subscription.

The customer starts a Checkout Session in subscription mode for a tier's Stripe price; Stripe
then reports the subscription's life in ``customer.subscription.*`` events, which grant the
tier while it runs and take it away when it ends. Events come in any order: each subscription
row keeps the newest (event created, status rank) seen, and a finished subscription
(canceled, incomplete_expired) never comes back, as in Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from django.db import connection

from ..loyalty.tiers import MEMBER_STATUSES, TierRules, current_program, settle_paid_tier
from ..profiles.models import Profile
from ..tenants.models import Tenant
from .accounts import credentials
from .errors import StripeEventError, StripeNotConfigured
from .models import Membership

# Precedence when two events carry the same ``created`` second: later in a subscription's life
# wins. Finished statuses are final.
STATUS_ORDER = ("incomplete", "trialing", "active", "past_due", "paused", "unpaid")
FINISHED = ("canceled", "incomplete_expired")


class MembershipError(Exception):
    code = "membership_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


@dataclass(frozen=True)
class CheckoutLink:
    url: str
    session_id: str


def start_checkout(
    tenant: Tenant, profile: Profile, tier: str, *, success_url: str, cancel_url: str
) -> CheckoutLink:
    """A Stripe Checkout Session (subscription mode) for the tier's price; returns its URL.

    Tenant and profile travel as ids in ``client_reference_id`` and the subscription's
    metadata (never the e-mail: metadata shows up in Stripe's dashboard and exports); the
    e-mail goes to Stripe only as ``customer_email``, to prefill the form.
    """
    program = current_program(tenant)
    rules = TierRules.from_data(program.rules) if program else None
    chosen = rules.tier(tier) if rules else None
    if chosen is None or not chosen.stripe_price:
        raise MembershipError(f"The tier {tier!r} cannot be bought.", code="tier_not_for_sale")
    api_key = credentials(tenant).api_key
    if not api_key:
        raise StripeNotConfigured("The store has no Stripe account configured.")
    metadata = {"crm_tenant": str(tenant.pk), "crm_profile": str(profile.pk), "crm_tier": tier}
    try:
        session = stripe.checkout.Session.create(
            api_key=api_key,
            mode="subscription",
            line_items=[{"price": chosen.stripe_price, "quantity": 1}],
            success_url=success_url,
            cancel_url=cancel_url,
            client_reference_id=f"{tenant.pk}:{profile.pk}",
            customer_email=profile.email or None,
            metadata=metadata,
            subscription_data={"metadata": metadata},
        )
    except stripe.error.StripeError as exc:
        raise MembershipError(
            f"Stripe did not start the checkout: {exc.user_message or type(exc).__name__}",
            code="stripe_error",
        ) from exc
    return CheckoutLink(url=str(session["url"]), session_id=str(session["id"]))


def _moment(value: Any) -> datetime | None:
    """A Stripe timestamp (whole seconds); anything else is refused with a clear code."""
    if not value:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise StripeEventError(f"timestamp {value!r:.40} is not whole seconds", code="stripe_time")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise StripeEventError(
            f"timestamp {value:.40} is out of range", code="stripe_time"
        ) from exc


def _profile_for(tenant: Tenant, subscription: dict[str, Any]) -> int | None:
    meta = subscription.get("metadata") or {}
    if str(meta.get("crm_tenant") or "") != str(tenant.pk):
        known = Membership.objects.filter(
            tenant=tenant, subscription_id=str(subscription.get("id"))
        ).first()
        return known.profile_id if known else None
    try:
        pk = int(meta.get("crm_profile") or 0)
    except (TypeError, ValueError, OverflowError):
        return None
    if not 0 < pk < 2**63:
        return None
    return pk if Profile.objects.filter(pk=pk, tenant=tenant).exists() else None


def _price_and_period(subscription: dict[str, Any]) -> tuple[str, Any]:
    items = ((subscription.get("items") or {}).get("data")) or [{}]
    first = items[0] if isinstance(items[0], dict) else {}
    price = first.get("price") or {}
    price_id = price.get("id") if isinstance(price, dict) else price
    # current_period_end moved from the subscription to its items in newer API versions
    period_end = subscription.get("current_period_end") or first.get("current_period_end")
    return str(price_id or ""), period_end


def record_subscription(tenant: Tenant, event: dict[str, Any]) -> bool:
    """Record a subscription's state from one event and settle the customer's tier.

    Returns False (and records nothing) for subscriptions the CRM did not start: a store may
    sell other subscriptions through the same Stripe account.
    """
    subscription = event["data"]["object"]
    subscription_id = str(subscription.get("id") or "")
    status = str(subscription.get("status") or "")
    if not subscription_id or not status:
        raise StripeEventError("subscription without id or status", code="stripe_missing_id")
    if event.get("type") == "customer.subscription.deleted":
        status = "canceled"
    profile_id = _profile_for(tenant, subscription)
    if profile_id is None:
        return False
    price_id, period_end = _price_and_period(subscription)
    program = current_program(tenant)
    rules = TierRules.from_data(program.rules) if program else None
    by_price = {t.stripe_price: t.name for t in rules.tiers if t.stripe_price} if rules else {}
    tier = by_price.get(price_id) or str((subscription.get("metadata") or {}).get("crm_tier") or "")
    if not tier:
        raise StripeEventError("subscription names no tier", code="stripe_unknown_tier")
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO crm_membership AS m (tenant_id, profile_id, subscription_id, customer_id,
              price_id, tier, status, current_period_end, cancel_at_period_end, ended_at,
              event_created, created_at, updated_at)
            VALUES (%(tenant)s, %(profile)s, %(sub)s, %(customer)s, %(price)s, %(tier)s,
                    %(status)s, %(period_end)s, %(cancel)s, %(ended)s, %(created)s, now(), now())
            ON CONFLICT (tenant_id, subscription_id) DO UPDATE SET
              price_id = EXCLUDED.price_id, tier = EXCLUDED.tier, status = EXCLUDED.status,
              current_period_end = EXCLUDED.current_period_end,
              cancel_at_period_end = EXCLUDED.cancel_at_period_end,
              ended_at = EXCLUDED.ended_at, event_created = EXCLUDED.event_created,
              updated_at = now()
            WHERE m.status <> ALL(%(finished)s)
              AND (EXCLUDED.status = ANY(%(finished)s)
                   OR (EXCLUDED.event_created, array_position(%(order)s, EXCLUDED.status))
                      >= (m.event_created, array_position(%(order)s, m.status)))
            """,
            {
                "tenant": tenant.pk,
                "profile": profile_id,
                "sub": subscription_id,
                "customer": str(subscription.get("customer") or ""),
                "price": price_id,
                "tier": tier,
                "status": status,
                "period_end": _moment(period_end),
                "cancel": bool(subscription.get("cancel_at_period_end")),
                "ended": _moment(subscription.get("ended_at")),
                "created": int(event["created"]),
                "finished": list(FINISHED),
                "order": list(STATUS_ORDER),
            },
        )
    settle_paid_tier(tenant, profile_id)
    return True


@dataclass(frozen=True)
class MembershipState:
    tier: str
    status: str
    active: bool
    renews_at: datetime | None
    ends_at: datetime | None


def membership_of(profile: Profile) -> MembershipState | None:
    """The customer's membership: a running one first, else the most recently changed."""
    rows = list(Membership.objects.filter(profile=profile).order_by("-updated_at", "-id"))
    if not rows:
        return None
    best = next((m for m in rows if m.status in MEMBER_STATUSES), rows[0])
    active = best.status in MEMBER_STATUSES
    ending = active and best.cancel_at_period_end
    return MembershipState(
        tier=best.tier,
        status=best.status,
        active=active,
        renews_at=best.current_period_end if active and not ending else None,
        ends_at=best.current_period_end if ending else (None if active else best.ended_at),
    )

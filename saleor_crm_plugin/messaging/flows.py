"""The automatic message flows a store runs, and a preview of each message for staff.

A flow is the trigger and timing of one message kind: abandoned checkout reminders (one step per
delay of ``recovery_delays_hours``, each with its optional discount), the browse reminder, the
welcome, the post-purchase request for feedback, win-back, points expiring and tier changes.
What a merchant can change lives in the store settings (``tenants/store_settings.py``: the
recovery steps, their discounts and the win-back discount); the other timings are installation
settings (``CRM_...``), shown so staff know when each message goes.

A preview renders with the real renderer (``render.py``), so it shows exactly the words,
formats and direction a customer in that locale gets; the data is a built sample, or a real
customer's name, latest order and points when staff pick one. Nothing is queued or sent, and
no discount code is created: the preview's code is a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from ..conf import crm_settings
from ..loyalty import earning
from ..loyalty.ledger import balance_of
from ..loyalty.models import TierStatus
from ..profiles.models import OrderRecord, Profile
from ..recovery.discounts import Issued, message_data
from ..tenants import store_settings
from ..tenants.models import Tenant
from ..tenants.store_settings import Discount
from . import locales
from .render import Rendered, render, template_context

SAMPLE_CODE = "CRM-PREVIEW"


@dataclass(frozen=True)
class FlowStep:
    position: int  # 1-based
    hours: float  # after the trigger (before it for points expiring)
    discount: Discount | None = None


@dataclass(frozen=True)
class Flow:
    kind: str  # the message kind, as render.KINDS names it
    trigger: str  # what starts it: checkout_abandoned, product_viewed, signed_up, ...
    enabled: bool
    steps: tuple[FlowStep, ...]
    settings: tuple[str, ...]  # the store settings staff can change it with


def flows(tenant: Tenant) -> list[Flow]:
    """The store's flows as they run now (the store's settings, not a channel's own)."""
    current = store_settings.for_tenant(tenant).for_channel(None)
    recovery = tuple(
        FlowStep(i + 1, float(hours), current.step_discount(i))
        for i, hours in enumerate(current.recovery_delays_hours)
    )
    return [
        Flow(
            "abandoned_checkout",
            "checkout_abandoned",
            bool(recovery),
            recovery,
            (store_settings.RECOVERY_DELAYS, store_settings.RECOVERY_DISCOUNTS),
        ),
        Flow(
            "browse_reminder",
            "product_viewed",
            crm_settings.BROWSE_REMINDER_HOURS > 0,
            (FlowStep(1, float(crm_settings.BROWSE_REMINDER_HOURS)),),
            (),
        ),
        Flow(
            "welcome", "signed_up", crm_settings.WELCOME_WITHIN_HOURS > 0, (FlowStep(1, 0.0),), ()
        ),
        Flow(
            "post_purchase",
            "order_fulfilled",
            crm_settings.POST_PURCHASE_DAYS > 0,
            (FlowStep(1, crm_settings.POST_PURCHASE_DAYS * 24),),
            (),
        ),
        Flow(
            "win_back",
            "became_dormant",
            crm_settings.WINBACK_ENABLED,
            (FlowStep(1, 0.0, current.winback_discount),),
            (store_settings.WINBACK_DISCOUNT,),
        ),
        Flow(
            "points_expiring",
            "points_expire",
            earning.rules_for(tenant).expiry_days > 0
            and crm_settings.LOYALTY_EXPIRY_REMINDER_DAYS > 0,
            (FlowStep(1, float(crm_settings.LOYALTY_EXPIRY_REMINDER_DAYS * 24)),),
            (),
        ),
        Flow(
            "tier_changed",
            "tier_changed",
            crm_settings.LOYALTY_TIER_MESSAGES != "none",
            (FlowStep(1, 0.0),),
            (),
        ),
    ]


class UnknownFlow(ValueError):
    code = "unknown_flow"


@dataclass(frozen=True)
class Preview:
    kind: str
    locale: str  # the shipped locale it was written in, after fallbacks
    rendered: Rendered


def preview(
    tenant: Tenant,
    kind: str,
    language: str,
    *,
    step: int = 1,
    profile: Profile | None = None,
    now: datetime,
) -> Preview:
    """Message ``kind`` (its step ``step``) as a customer with ``language`` would get it."""
    flow = next((f for f in flows(tenant) if f.kind == kind), None)
    if flow is None:
        raise UnknownFlow(f"There is no flow {kind!r}.")
    if not 1 <= step <= max(1, len(flow.steps)):
        raise UnknownFlow(f"The {kind} flow has no step {step}.")
    discount = flow.steps[step - 1].discount if flow.steps else None
    locale = locales.resolve(language)
    data = _sample(tenant, kind, profile, discount, now)
    ctx = template_context(
        kind,
        locale,
        data,
        name=(profile.first_name if profile else "") or "Alex",
        shop=crm_settings.SHOP_NAME
        or tenant.saleor_domain
        or urlsplit(tenant.saleor_api_url).hostname
        or "",
        time_zone="UTC",
        unsubscribe_url=f"{crm_settings.PUBLIC_URL}/unsubscribe/preview",
    )
    return Preview(kind=kind, locale=locale, rendered=render(kind, locale, ctx))


SAMPLE_LINES = (("Linen shirt", 1, 4900), ("Canvas tote", 2, 2400))


def _sample(
    tenant: Tenant,
    kind: str,
    profile: Profile | None,
    discount: Discount | None,
    now: datetime,
) -> dict[str, Any]:
    """The data a real message of ``kind`` carries, from the customer where there is one."""
    currency = tenant.base_currency or "USD"
    lines: list[dict[str, Any]] = [
        {"name": n, "quantity": q, "total_minor": m} for n, q, m in SAMPLE_LINES
    ]
    number = "1042"
    order = (
        OrderRecord.objects.filter(profile=profile).order_by("-created_at").first()
        if profile is not None
        else None
    )
    if order is not None and order.lines:
        currency, number = order.currency, order.number
        lines = [
            {
                "name": str(line.get("product_name") or line.get("sku") or ""),
                "quantity": int(line.get("quantity") or 1),
                "total_minor": int(line.get("total_gross_minor") or 0),
            }
            for line in order.lines
        ]
    total = sum(int(line["total_minor"]) for line in lines)
    data: dict[str, Any] = {"currency": currency, "total_minor": total, "lines": lines}
    shop_url = crm_settings.PUBLIC_URL
    if kind == "abandoned_checkout":
        data.update(checkout_url=f"{shop_url}/checkout/preview", recommended=[])
    if kind == "browse_reminder":
        data.update(products=[line["name"] for line in lines], recommended=[])
    if kind == "post_purchase":
        data.update(order_number=number, feedback_url=f"{shop_url}/feedback/preview")
    if kind == "consent_confirmation":
        data.update(confirm_url=f"{shop_url}/confirm/preview")
    if kind == "tier_changed":
        held = TierStatus.objects.filter(profile=profile).first() if profile else None
        data.update(tier=held.tier if held else "Gold")
    if kind == "points_expiring":
        points = balance_of(profile.pk).available if profile is not None else 0
        days = crm_settings.LOYALTY_EXPIRY_REMINDER_DAYS
        data.update(
            points=points if points > 0 else 250,
            expires_on=(now.date() + timedelta(days=days)).isoformat()
            if days > 0
            else date.today().isoformat(),
        )
    if discount is not None:
        issued = Issued(SAMPLE_CODE, "", now + timedelta(days=discount.days))
        data.update(message_data(discount, issued, currency))
    return data

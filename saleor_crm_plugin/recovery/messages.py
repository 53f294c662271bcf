"""Turning a due recovery step into a message in the outbox (messaging sends it when the
customer's window, consent and the frequency cap allow)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from ..catalogue.services import names
from ..messaging import services as messaging
from ..messaging.models import Purpose, Status
from ..predictions.recommendations import recommendations_for
from ..profiles.models import Profile
from ..tenants import store_settings
from ..tenants.models import Tenant
from . import discounts
from .models import FlowKind, RecoveryStep
from .services import DueStep, Outcome, TryLater

CHECKOUT_KIND = "abandoned_checkout"
BROWSE_KIND = "browse_reminder"
RECOMMENDED = 3  # "you might also like" under a reminder


def checkout_url(tenant: Tenant, channel: str, checkout_id: str) -> str:
    """The channel's "return to your cart" link with the checkout's token, or '' when the
    merchant gave no link (the e-mail then says nothing about a link)."""
    template = store_settings.for_tenant(tenant).for_channel(channel).checkout_url_template
    if not template:
        return ""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT token FROM crm_checkout WHERE tenant_id = %s AND checkout_id = %s",
            [tenant.pk, checkout_id],
        )
        row = cur.fetchone()
    return template.replace("{token}", row[0]) if row and row[0] else ""


def step_data(tenant: Tenant, step: DueStep) -> dict[str, Any]:
    """What the template needs, from the flow's snapshot: the cart as the customer left it."""
    if step.kind == FlowKind.BROWSE:
        ids = [str(product) for product in step.lines]
        known = names(tenant.pk, ids)
        return {
            "products": [known[i] for i in ids if known.get(i)],
            "recommended": recommended(tenant, step, set(ids)),
        }
    lines = [
        {
            "name": line.get("product_name") or line.get("sku") or "",
            "quantity": int(line.get("quantity") or 1),
            "total_minor": int(line.get("total_gross_minor") or 0),
        }
        for line in step.lines
    ]
    return {
        "lines": lines,
        "currency": step.currency,
        "total_minor": step.total_gross_minor,
        "checkout_url": checkout_url(tenant, step.channel, step.checkout_id),
        "step": step.step + 1,
        "recommended": recommended(
            tenant, step, {str(line.get("product_id") or "") for line in step.lines}
        ),
    }


def step_discount(profile: Profile, step: DueStep) -> dict[str, Any]:
    """The step's personal discount (the channel's *Recovery discounts* setting), created in
    Saleor once and noted on the step; {} when the step has none or the message would not go
    to this customer anyway (no voucher for a message that is refused).

    Raises ``TryLater`` when Saleor did not create the voucher: the reminder is not queued
    without the code, and the step is tried again. Runs in the flow's savepoint while the flow
    row is locked, so no other worker takes this step meanwhile; inside Saleor the voucher is
    written in that same transaction, through the app it is a call to Saleor's API (bounded by
    ``CRM_HTTP_TIMEOUT_SECONDS``)."""
    channel = store_settings.for_tenant(profile.tenant).for_channel(step.channel)
    discount = channel.step_discount(step.step)
    kind = BROWSE_KIND if step.kind == FlowKind.BROWSE else CHECKOUT_KIND
    if discount is None or messaging.refusal(
        profile, Purpose.MARKETING, step.channel, kind, step.step
    ):
        return {}
    key = f"recovery:{step.flow_id}:{step.step}"
    try:
        issued = discounts.issue(
            profile.tenant,
            discount,
            key=key,
            channel=step.channel,
            currency=step.currency,
            email=profile.email,
            starts=step.at,
        )
    except discounts.DiscountUnavailable as exc:
        raise TryLater(f"voucher for {key}: {exc}") from exc
    RecoveryStep.objects.filter(flow_id=step.flow_id, step=step.step).update(
        discount_code=issued.code,
        voucher_id=issued.voucher_id,
        discount_expires_at=issued.expires_at,
    )
    return discounts.message_data(discount, issued, step.currency)
def recommended(tenant: Tenant, step: DueStep, shown: set[str]) -> list[str]:
    """Names of a few products recommended to the customer (predictions/recommendations.py),
    other than those the reminder shows anyway; unnamed products are left out."""
    found = recommendations_for(tenant, [step.profile_id], RECOMMENDED + len(shown), step.at)
    picks = [r.name for r in found.get(step.profile_id, []) if r.product_id not in shown and r.name]
    return picks[:RECOMMENDED]


def send_step(step: DueStep) -> Outcome:
    """Queue the step's message once (the dedupe key is the flow and step); a message the
    outbox refuses for good (no consent, suppressed address) ends the flow with that reason."""
    profile = Profile.objects.select_related("tenant").get(pk=step.profile_id)
    data = step_data(profile.tenant, step)
    if step.kind == FlowKind.BROWSE and not data["products"]:
        return ("skipped", "no_known_products", "")
    if step.kind == FlowKind.CHECKOUT:
        data.update(step_discount(profile, step))
    message = messaging.enqueue(
        profile,
        BROWSE_KIND if step.kind == FlowKind.BROWSE else CHECKOUT_KIND,
        purpose=Purpose.MARKETING,
        dedupe_key=f"recovery:{step.flow_id}:{step.step}",
        data=data,
        store_channel=step.channel,
        now=step.at,
    )
    if message.status == Status.SKIPPED:
        return ("skipped", message.reason, str(message.pk))
    return ("queued", "", str(message.pk))

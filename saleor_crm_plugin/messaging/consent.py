"""The double opt-in e-mail: a grant that needs confirming sends the customer a link."""

from __future__ import annotations

from datetime import datetime

from django.urls import NoReverseMatch, reverse

from ..conf import crm_settings
from ..privacy.models import ConsentEntry
from ..privacy.tokens import make_confirm_token
from .models import Message, Purpose
from .services import enqueue


def confirm_url(entry: ConsentEntry) -> str:
    token = make_confirm_token(entry.tenant_id, entry.profile_id, entry.purpose, entry.channel)
    try:
        path = reverse("saleor_crm_webhooks:consent_confirm", args=[token])
    except NoReverseMatch:
        path = f"/consent/confirm/{token}"
    return f"{crm_settings.PUBLIC_URL}{path}"


def ask_to_confirm(entry: ConsentEntry, now: datetime | None = None) -> Message | None:
    """Queue the confirmation e-mail for a grant that waits for it (once per grant). It is
    transactional: it answers the customer's own request, so it needs no marketing consent
    and no send window. None when the grant needs no confirmation."""
    if not entry.needs_confirmation:
        return None
    return enqueue(
        entry.profile,
        "consent_confirmation",
        purpose=Purpose.TRANSACTIONAL,
        dedupe_key=f"consent-confirm:{entry.pk}",
        data={"confirm_url": confirm_url(entry)},
        store_channel=entry.channel,
        now=now,
        media=("email",),  # it confirms an e-mail address, whatever the store texts
    )

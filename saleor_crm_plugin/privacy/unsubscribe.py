"""Unsubscribing from a signed link: what the door asks, answered as plain values."""

from __future__ import annotations

from ..messaging.locales import resolve
from ..profiles.models import Profile
from .models import Source
from .services import has_consent, withdraw_consent
from .tokens import UnsubscribeToken


def profile_for(token: UnsubscribeToken) -> Profile | None:
    return Profile.objects.filter(pk=token.profile_id, tenant_id=token.tenant_id).first()


def page_locale(profile: Profile | None, token: UnsubscribeToken | None) -> str:
    return resolve(profile.language if profile else "", token.channel if token else "")


def unsubscribe(profile: Profile, token: UnsubscribeToken) -> bool:
    """Withdraw the consent the link was sent under, for every channel of the store (the page
    promises "no more marketing e-mails from <shop>"). Idempotent: True when it withdrew."""
    if not has_consent(profile, token.purpose, token.channel) and not has_consent(
        profile, token.purpose, ""
    ):
        return False
    withdraw_consent(profile, token.purpose, "", source=Source.UNSUBSCRIBE)
    return True

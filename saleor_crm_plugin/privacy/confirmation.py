"""Confirming a double opt-in from the signed link: what the door asks, as plain values."""

from __future__ import annotations

from ..profiles.models import Profile
from .errors import NothingToConfirm
from .models import Action, ConsentEntry
from .services import confirm_consent
from .tokens import ConfirmToken


def profile_for(token: ConfirmToken) -> Profile | None:
    return Profile.objects.filter(pk=token.profile_id, tenant_id=token.tenant_id).first()


def confirm(profile: Profile, token: ConfirmToken) -> bool:
    """Confirm the pending grant. True when the consent now stands confirmed (also when the
    link is clicked again); False when there is nothing to confirm (e.g. withdrawn since)."""
    try:
        confirm_consent(profile, token.purpose, token.channel)
    except NothingToConfirm:
        newest = (
            ConsentEntry.objects.filter(
                profile=profile, purpose=token.purpose, channel=token.channel
            )
            .order_by("-occurred_at", "-id")
            .values_list("action", flat=True)
            .first()
        )
        return newest == Action.CONFIRM
    return True

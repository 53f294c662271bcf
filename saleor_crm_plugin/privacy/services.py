"""The consent ledger's verbs: grant, confirm, withdraw, and the one question every send asks.

Withdrawing is one call, as easy as granting, and takes effect at once: the sender asks
``has_consent`` again right before each marketing message goes out, so a message queued before
the withdrawal is skipped, not sent.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..conf import crm_settings
from ..profiles.models import Profile
from . import events
from .errors import NothingToConfirm, UnknownPurpose
from .models import Action, ConsentEntry, Purpose, Source


def needs_double_opt_in(jurisdiction: str) -> bool:
    """Countries where the store wants a confirmed address first (e.g. DE, where courts expect
    it); set with ``CRM_DOUBLE_OPT_IN_COUNTRIES``."""
    return jurisdiction.upper() in crm_settings.DOUBLE_OPT_IN_COUNTRIES


def _append(
    profile: Profile,
    purpose: str,
    channel: str,
    action: Action,
    source: Source,
    *,
    jurisdiction: str = "",
    wording_version: str = "",
    needs_confirmation: bool = False,
    at: datetime | None = None,
    actor: str = "",
) -> ConsentEntry:
    if purpose not in Purpose.values:
        raise UnknownPurpose(
            f"unknown consent purpose {purpose!r}: one of {', '.join(Purpose.values)}"
        )
    with transaction.atomic():
        entry = ConsentEntry.objects.create(
            tenant_id=profile.tenant_id,
            profile=profile,
            purpose=purpose,
            channel=channel,
            action=action,
            jurisdiction=(jurisdiction or profile.country).upper(),
            source=source,
            wording_version=wording_version,
            needs_confirmation=needs_confirmation,
            occurred_at=at or timezone.now(),
            actor=actor,
        )
        events.consent_changed(entry)
    return entry


def grant_consent(
    profile: Profile,
    purpose: str,
    channel: str = "",
    *,
    source: Source,
    wording_version: str = "",
    jurisdiction: str = "",
    at: datetime | None = None,
    actor: str = "",
) -> ConsentEntry:
    """Record a grant (atomic, with a ``crm.consent.granted`` timeline entry). Under double
    opt-in for the jurisdiction (the customer's country unless given) it counts only after
    ``confirm_consent``."""
    country = (jurisdiction or profile.country).upper()
    return _append(
        profile,
        purpose,
        channel,
        Action.GRANT,
        source,
        jurisdiction=country,
        wording_version=wording_version,
        needs_confirmation=needs_double_opt_in(country),
        at=at,
        actor=actor,
    )


def confirm_consent(
    profile: Profile, purpose: str, channel: str = "", *, at: datetime | None = None
) -> ConsentEntry:
    """The customer clicked the double opt-in link: the pending grant now counts. Refused with
    ``NothingToConfirm`` unless the newest line is a grant waiting for confirmation (a link
    clicked after a withdrawal must not bring consent back)."""
    newest = (
        ConsentEntry.objects.filter(profile=profile, purpose=purpose, channel=channel)
        .order_by("-occurred_at", "-id")
        .values_list("action", "needs_confirmation")
        .first()
    )
    if newest != (Action.GRANT, True):
        raise NothingToConfirm("there is no pending consent to confirm")
    return _append(profile, purpose, channel, Action.CONFIRM, Source.CONFIRMATION, at=at)


def withdraw_consent(
    profile: Profile,
    purpose: str,
    channel: str = "",
    *,
    source: Source,
    at: datetime | None = None,
    actor: str = "",
) -> ConsentEntry:
    """Record a withdrawal (atomic, ``crm.consent.withdrawn`` on the timeline). Queued messages
    for the purpose are skipped from now on: the sender checks again before each send."""
    return _append(profile, purpose, channel, Action.WITHDRAW, source, at=at, actor=actor)


def has_consent(profile: Profile, purpose: str, channel: str = "") -> bool:
    """True when the newest line for (purpose, the channel or every channel) is a grant that
    needs no confirmation, or a confirmation of one. Opt-in: no line means no consent."""
    newest = (
        ConsentEntry.objects.filter(profile=profile, purpose=purpose, channel__in={channel, ""})
        .order_by("-occurred_at", "-id")
        .values_list("action", "needs_confirmation")
        .first()
    )
    if newest is None:
        return False
    action, needs_confirmation = newest
    if action == Action.CONFIRM:
        return True
    return action == Action.GRANT and not needs_confirmation

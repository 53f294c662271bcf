"""Reads of the consent ledger, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..profiles.models import Profile
from .models import Action, ConsentEntry


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    channel: str  # "" for every channel
    granted: bool
    pending_confirmation: bool  # granted under double opt-in, not confirmed yet
    since: datetime
    wording_version: str


def consent_states(profile: Profile) -> list[ConsentState]:
    """The current state of every (purpose, channel) the customer ever answered, in one query
    (the newest line of each)."""
    newest = (
        ConsentEntry.objects.filter(profile=profile)
        .order_by("purpose", "channel", "-occurred_at", "-id")
        .distinct("purpose", "channel")
    )
    states = []
    for entry in newest:
        pending = entry.action == Action.GRANT and entry.needs_confirmation
        states.append(
            ConsentState(
                purpose=entry.purpose,
                channel=entry.channel,
                granted=entry.action == Action.CONFIRM
                or (entry.action == Action.GRANT and not pending),
                pending_confirmation=pending,
                since=entry.occurred_at,
                wording_version=entry.wording_version,
            )
        )
    return states

"""When a marketing message to one customer may go: their send window and the frequency cap."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max
from django.db.models.functions import Coalesce

from ..conf import crm_settings
from ..profiles.models import Profile
from ..tenants import store_settings
from .models import Message, Purpose, Status
from .windows import next_open, rules_for, zone_for

SENT_OR_SENDING = (Status.SENDING, Status.SENT)


def customer_zone(profile: Profile, store_channel: str) -> str:
    """The customer's zone (from their address), else the channel's: never the server's."""
    return zone_for(profile.time_zone, crm_settings.CHANNEL_TIME_ZONES.get(store_channel, ""))


def cap_until(profile: Profile, sending: int | None = None) -> datetime | None:
    """The earliest instant the frequency cap lets the next marketing message out, or None.

    When enqueuing, counts messages sent, being sent and already queued (across flows and
    channels), so two flows that enqueue at once are spaced and the second waits rather than
    being dropped. When sending message ``sending``, counts only the others already sent or
    being sent: a queued message due later must not hold back one due now.
    """
    hours = crm_settings.MESSAGE_FREQUENCY_CAP_HOURS
    if hours <= 0:
        return None
    counted = [*SENT_OR_SENDING] if sending else [Status.QUEUED, *SENT_OR_SENDING]
    rows = Message.objects.filter(profile=profile, purpose=Purpose.MARKETING, status__in=counted)
    if sending is not None:
        rows = rows.exclude(pk=sending)
    last = rows.aggregate(last=Max(Coalesce("sent_at", "due_at")))["last"]
    return last + timedelta(hours=hours) if last is not None else None


def marketing_due(
    profile: Profile, store_channel: str, earliest: datetime, sending: int | None = None
) -> tuple[datetime, str]:
    """(when, why): the first instant at or after ``earliest`` that the cap and the customer's
    window allow; why is "" when that is ``earliest`` itself, else "frequency_cap" or
    "send_window"."""
    when, reason = earliest, ""
    capped = cap_until(profile, sending)
    if capped is not None and capped > when:
        when, reason = capped, "frequency_cap"
    window = store_settings.chosen(profile.tenant, store_channel, store_settings.SEND_WINDOW)
    rules = rules_for(profile.country, window)
    opened = next_open(when, customer_zone(profile, store_channel), rules)
    if opened > when:
        when, reason = opened, reason or "send_window"
    return when, reason

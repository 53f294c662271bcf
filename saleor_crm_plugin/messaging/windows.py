"""When a marketing message may go out: pure functions of (now, time zone, country, rules).

Everything is computed in the customer's local wall time with ``zoneinfo`` and only then turned
into an instant, so "09:00" is 09:00 on the customer's clock on DST change days too (the day
New York springs forward, 09:00 is 13:00 UTC, not 14:00). The server's time zone never enters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from ..conf import crm_settings

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")

# Countries whose law or custom keeps marketing off Sundays and public holidays. A merchant adds
# or overrides countries with CRM_SEND_WINDOW_COUNTRIES; this is the built-in starting point.
COUNTRY_RULES: dict[str, dict[str, Any]] = {
    "DE": {"no_sundays": True, "no_holidays": True},
    "AT": {"no_sundays": True, "no_holidays": True},
    "PL": {"no_sundays": True, "no_holidays": True},
}

# How far ahead we look for an open window; every rule set opens at least once a week.
_HORIZON_DAYS = 21


class WindowError(ValueError):
    """A send window that is not HH:MM-HH:MM with its start before its end."""


@dataclass(frozen=True)
class SendRules:
    start: time
    end: time  # exclusive; time.max stands for 24:00
    no_sundays: bool = False
    no_holidays: bool = False
    holiday_country: str = ""


def parse_window(text: str) -> tuple[time, time]:
    match = _WINDOW.match(text.strip())
    if not match:
        raise WindowError(f"send window {text!r} is not like 09:00-20:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start = time(h1, m1)
    end = time.max if (h2, m2) == (24, 0) else time(h2 % 24, m2)
    if h2 == 24 and m2 != 0:
        raise WindowError(f"send window {text!r} ends after 24:00")
    if end <= start:
        raise WindowError(f"send window {text!r} must start before it ends")
    return start, end


def rules_for(country: str, window: str = "") -> SendRules:
    """The store's window (the channel's, when given) with the country's own rules on top
    (built-in, then the merchant's)."""
    country = country.upper()
    merged: dict[str, Any] = {"window": window or crm_settings.SEND_WINDOW}
    merged.update(COUNTRY_RULES.get(country, {}))
    merged.update(crm_settings.SEND_WINDOW_COUNTRIES.get(country, {}))
    start, end = parse_window(str(merged["window"]))
    return SendRules(
        start=start,
        end=end,
        no_sundays=bool(merged.get("no_sundays", False)),
        no_holidays=bool(merged.get("no_holidays", False)),
        holiday_country=country,
    )


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:  # a country the package has no calendar for
        return frozenset()


def is_closed_day(day: date, rules: SendRules) -> bool:
    if rules.no_sundays and day.weekday() == 6:
        return True
    return bool(
        rules.no_holidays
        and rules.holiday_country
        and day in _holidays(rules.holiday_country, day.year)
    )


def _at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant the local clock shows ``wall`` on ``day``. A wall time that a DST jump
    skips is read with the offset before the jump (PEP 495, fold=0), which lands just after
    the jump: 02:30 on the day New York springs forward is 03:30 EDT."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def next_open(now: datetime, time_zone: str, rules: SendRules) -> datetime:
    """The first instant at or after ``now`` inside the window on the customer's clock."""
    zone = ZoneInfo(time_zone)
    local_day = now.astimezone(zone).date()
    for offset in range(_HORIZON_DAYS):
        day = local_day + timedelta(days=offset)
        if is_closed_day(day, rules):
            continue
        opens = _at(day, rules.start, zone)
        closes = (
            _at(day + timedelta(days=1), time(0), zone)
            if rules.end == time.max
            else _at(day, rules.end, zone)
        )
        if now < opens:
            return opens
        if now < closes:
            return now
    raise WindowError("the send rules leave no open window in the next three weeks")


def zone_for(profile_zone: str, channel_zone: str) -> str:
    """The customer's zone if we know it and it exists, else the channel's: fail closed to the
    store's own clock, never the server's. UTC only when neither is known."""
    for candidate in (profile_zone, channel_zone):
        if candidate:
            try:
                ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return candidate
    return "UTC"

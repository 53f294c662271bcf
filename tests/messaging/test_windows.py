"""Send windows on the customer's clock: nights, Sundays, holidays and DST change days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saleor_crm_plugin.messaging.windows import (
    WindowError,
    next_open,
    parse_window,
    rules_for,
    zone_for,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "country", "now", "expected"),
    [
        # Tokyo (UTC+9, no DST): 23:30 local -> 09:00 next morning.
        ("Asia/Tokyo", "JP", utc(2026, 3, 10, 14, 30), utc(2026, 3, 11, 0, 0)),
        # New York springs forward on 2026-03-08: 09:00 that morning is EDT (13:00 UTC).
        ("America/New_York", "US", utc(2026, 3, 8, 3, 30), utc(2026, 3, 8, 13, 0)),
        # ... and the day before it was still EST (14:00 UTC).
        ("America/New_York", "US", utc(2026, 3, 7, 3, 30), utc(2026, 3, 7, 14, 0)),
        # New York falls back on 2026-11-01: 09:00 EST is 14:00 UTC.
        ("America/New_York", "US", utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 14, 0)),
        # Sao Paulo (UTC-3 all year since 2019): 22:00 local -> 09:00 = 12:00 UTC.
        ("America/Sao_Paulo", "BR", utc(2026, 10, 4, 1, 0), utc(2026, 10, 4, 12, 0)),
        # Sydney leaves DST on 2026-04-05: 09:00 AEST is 23:00 UTC the day before.
        ("Australia/Sydney", "AU", utc(2026, 4, 4, 12, 0), utc(2026, 4, 4, 23, 0)),
        # ... and the morning before it still was AEDT (22:00 UTC).
        ("Australia/Sydney", "AU", utc(2026, 4, 3, 12, 0), utc(2026, 4, 3, 22, 0)),
        # Sydney enters DST on 2026-10-04: 09:00 AEDT is 22:00 UTC on the 3rd.
        ("Australia/Sydney", "AU", utc(2026, 10, 3, 14, 0), utc(2026, 10, 3, 22, 0)),
        # Berlin (no Sundays): Saturday 22:00 CET before the 2026-03-29 DST change ->
        # Monday 09:00 CEST, 07:00 UTC (an hour earlier in UTC than a week before).
        ("Europe/Berlin", "DE", utc(2026, 3, 28, 21, 0), utc(2026, 3, 30, 7, 0)),
        ("Europe/Berlin", "DE", utc(2026, 3, 21, 21, 0), utc(2026, 3, 23, 8, 0)),
        # Berlin, Easter: Good Friday and Easter Monday are public holidays, Sunday closed.
        # Thursday 21:00 waits past Good Friday until Saturday 09:00 CEST ...
        ("Europe/Berlin", "DE", utc(2026, 4, 2, 19, 0), utc(2026, 4, 4, 7, 0)),
        # ... and Saturday 22:00 past Easter Sunday and Monday until Tuesday.
        ("Europe/Berlin", "DE", utc(2026, 4, 4, 20, 0), utc(2026, 4, 7, 7, 0)),
        # Tokyo keeps no such rule: Sunday morning is open.
        ("Asia/Tokyo", "JP", utc(2026, 4, 4, 14, 0), utc(2026, 4, 5, 0, 0)),
    ],
)
def test_a_message_due_at_night_goes_out_the_next_open_morning_local_time(
    zone, country, now, expected
):
    assert next_open(now, zone, rules_for(country)) == expected


def test_inside_the_window_a_message_goes_at_once():
    now = utc(2026, 6, 10, 10, 0)  # 12:00 in Berlin, a Wednesday
    assert next_open(now, "Europe/Berlin", rules_for("DE")) == now


def test_the_window_closes_at_its_end_local_time():
    # 20:00 in New York (EDT) is closed: the next opening is 09:00 the following day.
    assert next_open(utc(2026, 6, 11, 0, 0), "America/New_York", rules_for("US")) == utc(
        2026, 6, 11, 13, 0
    )
    assert next_open(utc(2026, 6, 10, 23, 59), "America/New_York", rules_for("US")) == utc(
        2026, 6, 10, 23, 59
    )


def test_sundays_are_open_where_no_rule_closes_them():
    sunday_night = utc(2026, 3, 28, 21, 0)  # Saturday 22:00 in Paris
    assert next_open(sunday_night, "Europe/Paris", rules_for("FR")) == utc(2026, 3, 29, 7, 0)


def test_a_merchant_sets_the_window_and_country_rules(settings):
    settings.CRM_SEND_WINDOW = "10:00-18:00"
    settings.CRM_SEND_WINDOW_COUNTRIES = {"FR": {"no_sundays": True, "window": "11:00-19:00"}}
    assert next_open(utc(2026, 3, 28, 21, 0), "Europe/Paris", rules_for("FR")) == utc(
        2026, 3, 30, 9, 0
    )
    assert next_open(utc(2026, 3, 10, 10, 0), "Asia/Tokyo", rules_for("JP")) == utc(
        2026, 3, 11, 1, 0
    )


def test_a_window_that_is_not_hours_is_refused_with_the_reason():
    with pytest.raises(WindowError, match="is not like 09:00-20:00"):
        parse_window("9-20")
    with pytest.raises(WindowError, match="must start before it ends"):
        parse_window("20:00-09:00")


def test_an_unknown_time_zone_fails_closed_to_the_channel_zone():
    assert zone_for("", "Asia/Tokyo") == "Asia/Tokyo"
    assert zone_for("Mars/Olympus_Mons", "Asia/Tokyo") == "Asia/Tokyo"
    assert zone_for("Europe/Berlin", "Asia/Tokyo") == "Europe/Berlin"


def test_a_send_window_that_cannot_be_read_is_a_system_check_error(settings):
    from saleor_crm_plugin.checks import check_send_windows

    settings.CRM_SEND_WINDOW = "9 to 5"
    settings.CRM_SEND_WINDOW_COUNTRIES = {"FR": {"window": "19:00-10:00"}}
    assert [e.msg for e in check_send_windows(None)] == [
        "CRM_SEND_WINDOW: send window '9 to 5' is not like 09:00-20:00.",
        "CRM_SEND_WINDOW_COUNTRIES['FR']: send window '19:00-10:00' must start before it ends.",
    ]

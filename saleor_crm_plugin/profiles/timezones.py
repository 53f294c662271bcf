"""A customer's IANA time zone from their country.

Single-zone countries map exactly (CLDR's territory data through Babel). For countries that
span zones we take the zone most of the population lives in and say so (``exact=False``),
rather than Klaviyo's habit of putting everyone in their country's eastern zone.
"""

from __future__ import annotations

from functools import cache

from babel.core import get_global

# Most populous zone of multi-zone countries (where most customers of a national store live).
_PRIMARY = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "BR": "America/Sao_Paulo",
    "AU": "Australia/Sydney",
    "RU": "Europe/Moscow",
    "MX": "America/Mexico_City",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago",
    "CD": "Africa/Kinshasa",
    "MN": "Asia/Ulaanbaatar",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "EC": "America/Guayaquil",
    "NZ": "Pacific/Auckland",
    "DE": "Europe/Berlin",
    "CN": "Asia/Shanghai",
    "UA": "Europe/Kyiv",
    "MY": "Asia/Kuala_Lumpur",
    "UZ": "Asia/Tashkent",
    "GL": "America/Nuuk",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "NL": "Europe/Amsterdam",
    "DK": "Europe/Copenhagen",
    "CY": "Asia/Nicosia",
    "PS": "Asia/Gaza",
    "KI": "Pacific/Tarawa",
    "FM": "Pacific/Pohnpei",
    "PF": "Pacific/Tahiti",
    "MH": "Pacific/Majuro",
    "UM": "Pacific/Wake",
    "AQ": "Antarctica/McMurdo",
    "PG": "Pacific/Port_Moresby",
}


@cache
def country_zones() -> dict[str, str]:
    """Country code -> the zone we use for it, for every country CLDR knows."""
    zones: dict[str, str] = {}
    for country, names in get_global("territory_zones").items():
        if len(country) != 2:
            continue
        if country in _PRIMARY:
            zones[country] = _PRIMARY[country]
        elif len(names) == 1:
            zones[country] = names[0]
        else:
            zones[country] = sorted(names)[0]
    return zones


def zone_for_country(country: str) -> str:
    return country_zones().get(country.upper(), "")

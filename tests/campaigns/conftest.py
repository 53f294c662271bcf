"""A store with five customers in a segment (and one outside), a warm-up campaign for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from saleor_crm_plugin.campaigns import services
from saleor_crm_plugin.campaigns.models import Campaign
from saleor_crm_plugin.campaigns.types import CampaignInput, Content, StepInput
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent
from saleor_crm_plugin.segments.services import save_segment
from tests.messaging.conftest import make_profile

# Launched on Sunday 7 June 2026; the steps go on Monday 8, Thursday 11 and Monday 15 June
# at 08:00 UTC (10:00 in Berlin and Vienna, 17:00 in Tokyo: inside every send window).
LAUNCH = datetime(2026, 6, 7, 12, 0, tzinfo=UTC)
STEP_TIMES = tuple(datetime(2026, 6, d, 8, 0, tzinfo=UTC) for d in (8, 11, 15))
HOUR = timedelta(hours=1)

# (e-mail, language, country, time zone, marketing consent), in profile id order.
PEOPLE = (
    ("anna@example.de", "de", "DE", "Europe/Berlin", True),
    ("karl@example.at", "DE_AT", "AT", "Europe/Vienna", True),
    ("otto@example.de", "de", "DE", "Europe/Berlin", False),
    ("marie@example.fr", "fr", "FR", "Europe/Paris", True),
    ("yuki@example.jp", "ja", "JP", "Asia/Tokyo", True),
)


def versions(n: int) -> tuple[Content, ...]:
    return (
        Content("de-AT", f"Griaß di, Teil {n}", f"Servus aus Wien, Teil **{n}**."),
        Content("de", f"Sommerfest, Teil {n}", f"Unser Sommerfest naht: Teil **{n}**."),
        Content("ja", f"夏祭り {n}", f"夏祭りのお知らせ {n}"),
        Content("en", f"Summer party, part {n}", f"Our summer party is coming: part **{n}**."),
    )


def customers(tenant) -> dict[str, Profile]:
    found = {}
    for email, language, country, zone, consents in PEOPLE:
        profile = make_profile(
            tenant, email=email, first_name=email.split("@")[0].title(), language=language,
            country=country, time_zone=zone,
        )  # fmt: skip
        if consents:
            grant_consent(profile, "marketing_email", source=Source.CHECKOUT, at=LAUNCH - HOUR)
        found[email.split("@")[0]] = profile
    outsider = make_profile(tenant, email="sam@example.com", language="en", country="US")
    grant_consent(outsider, "marketing_email", source=Source.CHECKOUT, at=LAUNCH - HOUR)
    found["sam"] = outsider
    return found


def segment(tenant) -> int:
    rules = {"all": [{"field": "country", "op": "in", "value": ["DE", "AT", "FR", "JP"]}]}
    return save_segment(tenant, name="Europe and Japan", rules=rules, now=LAUNCH - HOUR).pk


def warm_up(tenant, segment_id: int, **overrides: Any) -> Campaign:
    data = CampaignInput(
        name="Summer sale warm-up",
        target_kind="segment",
        segment_id=segment_id,
        store_channel="default-channel",
        wave_size=2,
        wave_minutes=60,
        steps=tuple(StepInput(at, versions(i + 1)) for i, at in enumerate(STEP_TIMES)),
    )
    for name, value in overrides.items():
        data = CampaignInput(**{**data.__dict__, name: value})
    return services.save_campaign(tenant, data, LAUNCH - HOUR)

"""Checking what staff wrote, and choosing the version of a step each customer reads.

The chain is messaging's (``messaging/locales.py``): the customer's language (``de-at``), its
base language (``de``), the channel's default language, the store's, English; the first one
the step has a version in wins. ``LOCALE_SQL`` is the same choice in SQL for a whole wave.
"""

from __future__ import annotations

import re
from typing import Any

from ..messaging.locales import candidates, normalise
from ..segments.groups import GROUPS, STAGES
from .errors import CampaignError
from .models import TargetKind
from .types import CampaignInput, StepInput

MAX_STEPS = 10
MAX_SUBJECT = 200
MAX_BODY = 20_000
MAX_WAVE_MINUTES = 7 * 24 * 60
_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8}){0,2}$")

# The version for a customer whose (normalised) language is p.lang: the whole tag, its first
# two parts, its first part, else %(fallback)s. %(locales)s are the step's versions.
LOCALE_SQL = """
  CASE WHEN lang.tag = ANY(%(locales)s::text[]) THEN lang.tag
       WHEN lang.two = ANY(%(locales)s::text[]) THEN lang.two
       WHEN lang.one = ANY(%(locales)s::text[]) THEN lang.one
       ELSE %(fallback)s END
"""
LANG_SQL = """
  CROSS JOIN LATERAL (SELECT lower(replace(p.language, '_', '-')) AS tag) norm
  CROSS JOIN LATERAL (
    SELECT norm.tag AS tag,
           array_to_string((string_to_array(norm.tag, '-'))[1:2], '-') AS two,
           split_part(norm.tag, '-', 1) AS one
  ) lang
"""


def fallback(locales: list[str], store_channel: str) -> str | None:
    """The version for customers whose language has none: the channel's, the store's, English."""
    for tag in candidates("", store_channel):
        if tag in locales:
            return tag
    return None


def choose(content: dict[str, Any], language: str, store_channel: str) -> str:
    """The version of a step (its ``content``) this customer reads."""
    for tag in candidates(language, store_channel):
        if tag in content:
            return tag
    return fallback(list(content), store_channel) or next(iter(content))


def _fail(message: str, field: str, code: str = "INVALID") -> CampaignError:
    return CampaignError(message, code=code, field=field)


def step_content(step: StepInput, where: str, store_channel: str) -> dict[str, dict[str, str]]:
    """A step's versions keyed by normalised locale, checked."""
    if not step.contents:
        raise _fail(f"{where}: give the message in at least one language.", where)
    found: dict[str, dict[str, str]] = {}
    for i, version in enumerate(step.contents):
        place = f"{where}.contents[{i}]"
        tag = normalise(version.locale)
        if not _TAG.match(tag):
            raise _fail(f"{place}.locale: give a language like de, de-AT or zh-Hans.", place)
        if tag in found:
            raise _fail(f"{place}.locale: {version.locale} is given twice.", place)
        subject, body = version.subject.strip(), version.body.strip()
        if not subject or len(subject) > MAX_SUBJECT:
            raise _fail(f"{place}.subject: give a subject of 1 to {MAX_SUBJECT} characters.", place)
        if not body or len(body) > MAX_BODY:
            raise _fail(f"{place}.body: give a text of 1 to {MAX_BODY} characters.", place)
        found[tag] = {"subject": subject, "body": body}
    if fallback(list(found), store_channel) is None:
        wanted = ", ".join(candidates("", store_channel))
        raise _fail(
            f"{where}: give the message also in one of {wanted}, for customers whose own "
            "language it is not written in.",
            where,
        )
    return found


def check(data: CampaignInput) -> list[dict[str, Any]]:
    """Refuse a campaign that cannot be sent as given, naming the place; returns the steps as
    stored (send time and versions)."""
    if not data.name.strip() or len(data.name.strip()) > 128:
        raise _fail("name: give a name of 1 to 128 characters.", "name")
    if data.target_kind == TargetKind.SEGMENT:
        if data.segment_id is None:
            raise _fail("segmentId: choose the segment to send to.", "segmentId")
    elif data.target_kind == TargetKind.RFM_GROUP:
        if data.target_value not in GROUPS:
            raise _fail(f"rfmGroup: one of {', '.join(GROUPS)}.", "rfmGroup")
    elif data.target_kind == TargetKind.STAGE:
        if data.target_value not in STAGES:
            raise _fail(f"stage: one of {', '.join(STAGES)}.", "stage")
    else:
        raise _fail("Choose one audience: a segment, an RFM group or a stage.", "target")
    if data.wave_size is not None and data.wave_size < 1:
        raise _fail("waveSize: at least 1 per wave (or none for all at once).", "waveSize")
    if not 1 <= data.wave_minutes <= MAX_WAVE_MINUTES:
        raise _fail(f"waveMinutes: 1 to {MAX_WAVE_MINUTES} minutes between waves.", "waveMinutes")
    if not 1 <= len(data.steps) <= MAX_STEPS:
        raise _fail(f"steps: 1 to {MAX_STEPS} messages.", "steps")
    steps: list[dict[str, Any]] = []
    for i, step in enumerate(data.steps):
        where = f"steps[{i}]"
        if i and step.send_at <= data.steps[i - 1].send_at:
            raise _fail(f"{where}.sendAt: each message goes after the one before it.", where)
        steps.append(
            {"send_at": step.send_at, "content": step_content(step, where, data.store_channel)}
        )
    return steps

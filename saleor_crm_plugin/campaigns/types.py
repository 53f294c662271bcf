"""What staff give to create or change a campaign (plain data, checked by ``content.check``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Content:
    locale: str  # BCP 47, e.g. "de-AT", "de", "en"
    subject: str
    body: str  # markdown-ish text (messaging/markup.py)


@dataclass(frozen=True)
class StepInput:
    send_at: datetime
    contents: tuple[Content, ...]


@dataclass(frozen=True)
class CampaignInput:
    name: str
    target_kind: str  # "segment", "rfm_group" or "stage"
    steps: tuple[StepInput, ...]
    segment_id: int | None = None
    target_value: str = ""  # the group or stage
    store_channel: str = ""
    wave_size: int | None = None  # at most this many recipients per wave; None: all at once
    wave_minutes: int = 60

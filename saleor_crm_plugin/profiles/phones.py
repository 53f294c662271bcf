"""Phone numbers as SMS and WhatsApp providers want them: E.164 (+4915112345678).

Saleor validates address phones with ``phonenumbers`` and stores them as E.164 already; this only
tidies what other sources send (spaces, dashes, a 00 prefix, WhatsApp's wa_id without the +) and
refuses anything that cannot be a full international number, rather than guess a country.
"""

from __future__ import annotations

import re

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_NOISE = re.compile(r"[\s().\-/]")


def e164(raw: object) -> str:
    """The number in E.164, or "" when it is not a full international number."""
    if not isinstance(raw, str):
        return ""
    text = _NOISE.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text and text[0].isdigit() and len(text) >= 8 and not text.startswith("0"):
        text = "+" + text  # WhatsApp's wa_id: the international number without the +
    return text if _E164.match(text) else ""

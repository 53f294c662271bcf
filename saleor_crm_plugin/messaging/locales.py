"""Which language a message goes out in.

The chain: the customer's own language (``de-at``, from Saleor's ``DE_AT``), its base language
(``de``), the channel's default (``CRM_CHANNEL_LANGUAGES``), the store's default
(``CRM_DEFAULT_LANGUAGE``), then English. The first one we ship a catalog for wins.
"""

from __future__ import annotations

from ..conf import crm_settings

# Locales we ship translated catalogs for (Django language codes, lower case).
SUPPORTED = ("en", "de", "fr", "es", "pl", "ja", "zh-hans", "ar")
RTL = frozenset({"ar", "he", "fa", "ur"})
# Saleor's language codes that name a script or region we map onto a shipped catalog.
_ALIASES = {"zh": "zh-hans", "zh-cn": "zh-hans", "zh-sg": "zh-hans", "zh-hans-cn": "zh-hans"}


def normalise(tag: str) -> str:
    """``DE_AT``, ``de_AT`` and ``de-at`` are one tag: ``de-at``."""
    return tag.strip().lower().replace("_", "-")


def candidates(language: str, channel: str = "") -> list[str]:
    """The fallback chain for a customer's language in a channel, most specific first."""
    chain: list[str] = []
    for tag in (
        language,
        crm_settings.CHANNEL_LANGUAGES.get(channel, "") if channel else "",
        crm_settings.DEFAULT_LANGUAGE,
        "en",
    ):
        tag = normalise(tag)
        parts = tag.split("-")
        for i in range(len(parts), 0, -1):
            step = "-".join(parts[:i])
            if step and step not in chain:
                chain.append(step)
    return chain


def resolve(language: str, channel: str = "") -> str:
    """The shipped locale a message to this customer is written in."""
    for tag in candidates(language, channel):
        tag = _ALIASES.get(tag, tag)
        if tag in SUPPORTED:
            return tag
    return "en"


def is_rtl(locale: str) -> bool:
    return normalise(locale).split("-")[0] in RTL


def babel_locale(locale: str) -> str:
    """Django's ``zh-hans`` is Babel's ``zh_Hans``; ``de-at`` is ``de_AT``."""
    parts = normalise(locale).split("-")
    out = [parts[0]]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 else part.upper())
    return "_".join(out)

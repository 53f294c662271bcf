"""The export as a page a person can read: one heading per section, in their language."""

from __future__ import annotations

import json
from typing import Any

from django.template import Context
from django.utils import translation
from django.utils.translation import pgettext_lazy

from ..conf import crm_settings
from ..messaging import locales
from ..messaging.render import engine

TITLES = {
    "profile": pgettext_lazy("crm export", "Profile"),
    "orders": pgettext_lazy("crm export", "Orders"),
    "checkouts": pgettext_lazy("crm export", "Shopping carts"),
    "timeline": pgettext_lazy("crm export", "History"),
    "consents": pgettext_lazy("crm export", "Consents"),
    "loyalty": pgettext_lazy("crm export", "Loyalty points, tier and referrals"),
    "messages": pgettext_lazy("crm export", "Messages"),
    "behaviour": pgettext_lazy("crm export", "Activity in the shop"),
    "segments": pgettext_lazy("crm export", "Scores and customer groups"),
    "recovery": pgettext_lazy("crm export", "Cart reminders"),
    "memberships": pgettext_lazy("crm export", "Memberships"),
    "feedback": pgettext_lazy("crm export", "Ratings of orders"),
    "campaigns": pgettext_lazy("crm export", "Campaigns received"),
    "predictions": pgettext_lazy("crm export", "Predictions"),
    "service": pgettext_lazy("crm export", "Notes, tags and service cases"),
}


def _cell(value: Any) -> dict[str, Any]:
    if isinstance(value, dict | list):
        return {"text": json.dumps(value, ensure_ascii=False, indent=1), "nested": True}
    return {"text": "" if value is None else str(value), "nested": False}


def _table(caption: str, value: Any) -> dict[str, Any]:
    rows = value if isinstance(value, list) else ([value] if value else [])
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    return {
        "caption": caption,
        "columns": columns,
        "rows": [[_cell(row.get(c)) for c in columns] for row in rows],
    }


def _tables(name: str, value: Any) -> list[dict[str, Any]]:
    if name == "profile":  # one record: a two-column table reads better
        return [_table("", [{"field": k, "value": v} for k, v in value.items()])]
    if isinstance(value, dict):  # sub-sections, each a table
        return [_table(k.replace("_", " "), v) for k, v in value.items()]
    return [_table("", value)]


def render_summary(document: dict[str, Any], language: str) -> str:
    """HTML of ``document`` (from ``export_customer``); headings in ``language`` when we ship
    it, else English. Field names stay as in the JSON, so the two can be read side by side."""
    locale = locales.resolve(language)
    with translation.override(locale):
        parts = [
            {"title": str(TITLES.get(name, name)), "tables": _tables(name, document[name])}
            for name in document
            if name not in ("format", "version", "generated_at", "store")
        ]
        template = engine().get_template("saleor_crm_plugin/privacy/export.html")
        return template.render(
            Context(
                {
                    "lang": locale,
                    "dir": "rtl" if locales.is_rtl(locale) else "ltr",
                    "shop": crm_settings.SHOP_NAME,
                    "generated_at": document["generated_at"],
                    "parts": parts,
                }
            )
        )

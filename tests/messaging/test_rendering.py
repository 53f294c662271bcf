"""Every shipped locale renders every e-mail fully translated, with CLDR formatting.

One HTML per locale and kind is saved under ``artifacts/emails/`` for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from saleor_crm_plugin.messaging.locales import SUPPORTED
from saleor_crm_plugin.messaging.render import KINDS, render, render_page, template_context

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "emails"
CATALOG = ROOT / "saleor_crm_plugin" / "locale" / "de" / "LC_MESSAGES" / "django.po"

DATA = {
    "currency": "EUR",
    "lines": [
        {"name": "Teekanne Kyoto", "quantity": 1, "total_minor": 4990},
        {"name": "Matcha-Schale", "quantity": 4, "total_minor": 2580},
    ],
    "total_minor": 7570,
    "products": ["Teekanne Kyoto", "Matcha-Schale"],
    "recommended": ["Bambus-Besen"],
    "tier": "Platin",
    "points": 1250,
    "expires_on": "2026-12-31",
    "checkout_url": "https://nordwind.example/checkout?token=abc",
    "discount_code": "NORD-7Q2X",
    "discount_expires_at": "2026-12-31T22:59:00+00:00",
    "discount_percent": "15",
    "shop_url": "https://nordwind.example/",
    "confirm_url": "https://crm.nordwind.example/consent/confirm/c0nf1rm",
    "order_number": "1042",
    "feedback_url": "https://crm.nordwind.example/feedback/f33db4ck",
    # A campaign step as staff wrote it (in the message's language; here one for all).
    "subject": "Nordwind: Matcha-Schale -20 %",
    "body": (
        "# Matcha-Schale\n\n**-20 %** [Nordwind](https://nordwind.example/)\n\n- Teekanne Kyoto"
    ),
}
# The cart's total as each locale writes it (spaces normalised, direction marks dropped).
TOTALS = {
    "en": "€75.70",
    "de": "75,70 €",
    "fr": "75,70 €",
    "es": "75,70 €",
    "pl": "75,70 €",
    "ja": "€75.70",
    "zh-hans": "€75.70",
    "ar": "75.70 €",
}
# 1250 points as each locale groups digits.
POINTS = {
    "en": "1,250",
    "de": "1.250",
    "fr": "1 250",
    "es": "1.250",
    "pl": "1 250",
    "ja": "1,250",
    "zh-hans": "1,250",
    "ar": "1,250",
}
# A 15 % personal discount as each locale writes it.
PERCENTS = {
    "en": "15%",
    "de": "15 %",
    "fr": "15 %",
    "es": "15 %",
    "pl": "15%",
    "ja": "15%",
    "zh-hans": "15%",
    "ar": "15%",
}
# The offer expires at 23:59 on New Year's Eve in Berlin.
EXPIRIES = {
    "en": "Dec 31, 2026, 11:59 PM",
    "de": "31. Dez. 2026, 23:59",
    "fr": "31 déc. 2026, 23:59",
    "es": "31 dic 2026, 23:59",
    "pl": "31 gru 2026, 23:59",
    "ja": "2026年12月31日 23:59",
    "zh-hans": "2026年12月31日 23:59",
    "ar": "31 ديسمبر 2026، 11:59 م",
}


def english_fragments() -> list[str]:
    """The English words of every msgid, split at placeholders (what must not be left over)."""
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    fragments: set[str] = set()
    for message in catalog:
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            for part in re.split(r"%\(\w+\)s", msgid):
                part = part.strip(" ,.:?!")
                if len(part) >= 4:
                    fragments.add(part)
    return sorted(fragments)


def untranslated(text: str) -> list[str]:
    """English fragments standing as words in ``text`` ("Producto" is Spanish, not "Product")."""
    return [f for f in english_fragments() if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", text)]


def visible(text: str) -> str:
    return re.sub(r"[\u200e\u200f]", "", re.sub(r"[\xa0\u202f]", " ", text))


def ctx(kind: str, locale: str) -> dict:
    return template_context(
        kind,
        locale,
        DATA,
        name="Anna",
        shop="Nordwind",
        time_zone="Europe/Berlin",
        unsubscribe_url="https://crm.nordwind.example/unsubscribe/t0k3n",
    )


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("kind", KINDS)
def test_every_locale_renders_translated_and_well_formatted(kind, locale):
    rendered = render(kind, locale, ctx(kind, locale))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{kind}.{locale}.html").write_text(rendered.html, encoding="utf-8")

    everything = "\n".join((rendered.subject, rendered.text, rendered.html))
    for broken in ("{{", "}}", "{%", "%}", "%(", ")s"):
        assert broken not in everything, f"{broken!r} left in {kind}/{locale}"
    if locale != "en":
        left = untranslated(everything)
        assert left == [], f"untranslated in {kind}/{locale}: {left}"
    direction = "rtl" if locale == "ar" else "ltr"
    assert f'dir="{direction}"' in rendered.html
    assert "Anna" in rendered.text
    assert "https://crm.nordwind.example/unsubscribe/t0k3n" in rendered.text
    if kind == "consent_confirmation":
        assert 'href="https://crm.nordwind.example/consent/confirm/c0nf1rm"' in rendered.html
    if kind == "tier_changed":
        assert "Platin" in rendered.subject + rendered.text
    if kind == "points_expiring":
        assert POINTS[locale] in visible(rendered.text)
    if kind == "browse_reminder":
        assert "Teekanne Kyoto" in rendered.text and "Matcha-Schale" in rendered.html
    if kind == "post_purchase":
        assert "#1042" in rendered.subject
        assert TOTALS[locale] in visible(rendered.text) and "Matcha-Schale" in rendered.html
        for n in range(1, 6):
            url = f"https://crm.nordwind.example/feedback/f33db4ck?rating={n}"
            assert f'href="{url}"' in rendered.html and url in rendered.text
    if kind in ("abandoned_checkout", "win_back"):
        assert EXPIRIES[locale] in visible(rendered.text)
        assert PERCENTS[locale] in visible(rendered.text)
        assert "NORD-7Q2X" in rendered.html and "NORD-7Q2X" in rendered.text
    if kind == "win_back":
        assert "Nordwind" in rendered.subject
    if kind == "campaign":
        assert rendered.subject == "Nordwind: Matcha-Schale -20 %"
        assert "<strong>-20 %</strong>" in rendered.html
        assert '<a href="https://nordwind.example/">Nordwind</a>' in rendered.html
        assert "-20 % Nordwind (https://nordwind.example/)" in rendered.text
        assert "<li>Teekanne Kyoto</li>" in rendered.html
    if kind in ("browse_reminder", "abandoned_checkout"):  # "you might also like"
        assert "- Bambus-Besen" in rendered.text and ">Bambus-Besen</li>" in rendered.html
    if kind == "abandoned_checkout":
        assert TOTALS[locale] in visible(rendered.text)
        assert 'href="https://nordwind.example/checkout?token=abc"' in rendered.html


@pytest.mark.parametrize(
    ("locale", "items", "subject"),
    [
        ("en", 1, "You left 1 item in your cart"),
        ("en", 5, "You left 5 items in your cart"),
        ("pl", 1, "W koszyku został 1 produkt"),
        ("pl", 3, "W koszyku zostały 3 produkty"),
        ("pl", 5, "W koszyku zostało 5 produktów"),
        ("pl", 22, "W koszyku zostały 22 produkty"),
        ("ar", 2, "بقي منتجان (2) في سلة التسوق"),
        ("ar", 3, "بقيت 3 منتجات في سلة التسوق"),
        ("ar", 11, "بقي 11 منتجًا في سلة التسوق"),
        ("ar", 100, "بقي 100 منتج في سلة التسوق"),
        ("fr", 1, "Vous avez laissé 1 article dans votre panier"),
        ("ja", 7, "カートに7点の商品が残っています"),
    ],
)
def test_the_subject_uses_the_plural_rules_of_the_language(locale, items, subject):
    data = {**DATA, "lines": [{"name": "Tasse", "quantity": items, "total_minor": 100 * items}]}
    context = template_context(
        "abandoned_checkout",
        locale,
        data,
        name="",
        shop="Nordwind",
        time_zone="UTC",
        unsubscribe_url="",
    )
    assert render("abandoned_checkout", locale, context).subject == subject


@pytest.mark.parametrize(("locale", "amount"), [("de", "5,00 €"), ("ja", "€5.00"), ("en", "€5.00")])
def test_a_fixed_discount_is_shown_in_the_channels_currency(locale, amount):
    data = {
        **DATA,
        "discount_percent": "",
        "discount_amount_minor": 500,
        "discount_currency": "EUR",
    }
    context = template_context(
        "win_back", locale, data, name="Anna", shop="Nordwind", time_zone="UTC", unsubscribe_url=""
    )
    assert amount in visible(render("win_back", locale, context).text)


def test_a_name_cannot_inject_html():
    context = {**ctx("welcome", "en"), "name": '<img src=x onerror="alert(1)">'}
    html = render("welcome", "en", context).html
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_rating_page_is_translated_with_the_clicked_rating_chosen(locale):
    for state, error in (("form", ""), ("form", "rating"), ("form", "comment"), ("done", "")):
        ctx = {"state": state, "error": error, "number": "#1042", "ratings": [1, 2, 3, 4, 5]}
        page = render_page("feedback", locale, {**ctx, "rating": 4, "limit": 2000})
        assert "{{" not in page and "%(" not in page and "#1042" in page
        if state == "form":
            assert 'value="4" checked>' in page and page.count(" checked>") == 1
        if locale != "en":
            left = untranslated(page)
            assert left == [], f"untranslated on the feedback page in {locale}: {left}"
    invalid = render_page("feedback", locale, {"state": "invalid"})
    assert "<form" not in invalid
    if locale != "en":
        assert untranslated(invalid) == []


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_unsubscribe_and_confirmation_pages_are_translated(locale):
    for name, state in [
        (n, s) for n in ("unsubscribe", "confirm") for s in ("confirm", "done", "invalid")
    ]:
        page = render_page(name, locale, {"state": state, "shop": "Nordwind"})
        assert "{{" not in page and "%(" not in page
        if locale != "en":
            left = untranslated(page)
            assert left == [], f"untranslated on the {state} page in {locale}: {left}"

"""Which language a customer gets: their own, its base, the channel's, the store's, English."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.messaging.formatting import money
from saleor_crm_plugin.messaging.locales import babel_locale, candidates, is_rtl, resolve


def test_the_fallback_chain_goes_from_region_to_language_to_channel_to_english(settings):
    settings.CRM_CHANNEL_LANGUAGES = {"ch": "fr"}
    assert candidates("DE_AT", "ch") == ["de-at", "de", "fr", "en"]
    assert resolve("DE_AT", "ch") == "de"
    assert resolve("PT_BR", "ch") == "fr"  # no Portuguese catalog: the channel's language
    assert resolve("", "ch") == "fr"
    assert resolve("", "other") == "en"


def test_the_store_default_comes_before_english(settings):
    settings.CRM_DEFAULT_LANGUAGE = "pl"
    assert resolve("sv", "") == "pl"


@pytest.mark.parametrize(
    ("saleor", "locale"), [("ZH_HANS", "zh-hans"), ("zh-cn", "zh-hans"), ("AR", "ar"), ("ja", "ja")]
)
def test_saleor_language_codes_map_to_shipped_catalogs(saleor, locale):
    assert resolve(saleor) == locale


def test_right_to_left_languages():
    assert [tag for tag in ("ar", "he", "fa", "ur", "de", "ja") if is_rtl(tag)] == [
        "ar",
        "he",
        "fa",
        "ur",
    ]
    assert babel_locale("zh-hans") == "zh_Hans"
    assert babel_locale("de-at") == "de_AT"


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (123456, "EUR", "de", "1.234,56\xa0€"),
        (123456, "EUR", "en", "€1,234.56"),
        (123456, "JPY", "ja", "￥123,456"),
        (1234, "KWD", "en", "KWD1.234"),
        (500, "USD", "fr", "5,00\xa0$US"),
    ],
)
def test_money_has_the_currencys_own_minor_units_and_the_locales_format(
    minor, currency, locale, shown
):
    assert money(minor, currency, locale) == shown

import pytest

from saleor_crm_plugin.tenants import store_settings as config


def settings(**values: str) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def test_defaults_are_valid_and_parse():
    assert config.errors(None) == {}
    parsed = config.parse(None)
    assert parsed.recovery_delays_hours == (1, 24, 72)
    assert parsed.send_window == ("09:00", "20:00")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("base_currency", "EURO", "not a currency code"),
        ("recovery_delays_hours", "24,1", "increasing whole hours"),
        ("recovery_delays_hours", "1,-2", "increasing whole hours"),
        ("recovery_delays_hours", "soon", "increasing whole hours"),
        ("sender_address", "not an address", "e-mail address"),
        ("checkout_url_template", "https://shop.com/checkout", "{token}"),
        ("checkout_url_template", "ftp://shop.com/{token}", "http(s)"),
        ("send_window", "20:00-09:00", "start before end"),
        ("send_window", "9-20", "09:00-20:00"),
    ],
)
def test_invalid_settings_are_refused_with_a_clear_message(field, value, words):
    problems = config.errors(settings(**{field: value}))
    assert list(problems) == [field]
    assert words in problems[field]


def test_good_settings_parse_to_plain_data():
    parsed = config.parse(
        settings(
            base_currency="eur",
            sender_address="Shop <hi@shop.com>",
            checkout_url_template="https://shop.com/c?t={token}",
        )
    )
    assert parsed.base_currency == "EUR"
    assert parsed.sender_address == "Shop <hi@shop.com>"


def test_a_channel_overrides_only_what_it_sets():
    parsed = config.parse(
        settings(
            sender_address="Shop <hi@shop.com>",
            channel_settings='{"uk": {"sender_address": "Shop UK <uk@shop.com>", '
            '"send_window": "08:00-21:00"}, "wholesale": {"enabled": false}}',
        )
    )
    uk = parsed.for_channel("uk")
    assert (uk.enabled, uk.sender_address, uk.send_window) == (
        True,
        "Shop UK <uk@shop.com>",
        ("08:00", "21:00"),
    )
    assert uk.recovery_delays_hours == (1, 24, 72)  # the store's
    assert parsed.for_channel("wholesale").enabled is False
    other = parsed.for_channel("de")
    assert (other.enabled, other.sender_address) == (True, "Shop <hi@shop.com>")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("{not json", "not valid JSON"),
        ('["uk"]', "JSON object by channel slug"),
        ('{"uk": {"base_currency": "GBP"}}', "one for the whole store"),
        ('{"uk": {"colour": "red"}}', "colour cannot be set per channel"),
        ('{"uk": {"enabled": "no"}}', "enabled is true or false"),
        ('{"uk": {"send_window": "21:00-08:00"}}', "Channel 'uk', send_window: Give a start"),
        ('{"uk": {"checkout_url_template": "https://uk.shop"}}', "{token}"),
    ],
)
def test_bad_channel_settings_are_refused_with_a_clear_message(value, words):
    problems = config.errors(settings(channel_settings=value))
    assert list(problems) == ["channel_settings"]
    assert words in problems["channel_settings"]

import pytest

from saleor_crm_plugin.plugin import config


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

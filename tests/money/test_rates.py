import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from saleor_crm_plugin.cli import main
from saleor_crm_plugin.money.errors import MissingRate
from saleor_crm_plugin.money.models import FxRate
from saleor_crm_plugin.money.rates import RateBook
from saleor_crm_plugin.money.services import RateFileError, load_rates

pytestmark = pytest.mark.django_db

NOV_10 = datetime(2026, 11, 10, 12, tzinfo=UTC)
NOV_30 = datetime(2026, 11, 30, 12, tzinfo=UTC)

RATES = """date,base,currency,rate
2026-11-01,EUR,USD,1.05
2026-11-01,EUR,PLN,4.25
2026-11-24,EUR,PLN,5.00
"""


def book(base: str) -> RateBook:
    load_rates(io.StringIO(RATES))
    return RateBook.load(base, {"USD", "PLN", "EUR"}, NOV_10, NOV_30)


def test_rate_in_force_at_the_moment_is_used():
    rates = book("EUR")
    assert rates.rate("PLN", NOV_10) == Decimal(1) / Decimal("4.25")
    assert rates.rate("PLN", NOV_30) == Decimal(1) / Decimal("5.00")


def test_cross_rate_through_the_file_base_serves_another_base_currency():
    rates = book("USD")
    assert rates.rate("EUR", NOV_10) == Decimal("1.05")
    assert rates.rate("PLN", NOV_10) == Decimal("1.05") / Decimal("4.25")


def test_no_rate_before_the_first_one_is_an_error_naming_the_pair():
    rates = book("EUR")
    with pytest.raises(MissingRate, match="PLN to EUR"):
        rates.rate("PLN", datetime(2026, 10, 1, tzinfo=UTC))


def test_a_bad_line_loads_nothing_and_names_the_line():
    bad = RATES + "2026-11-02,EUR,XYZ,1.0\n"
    with pytest.raises(RateFileError, match="line 5: unknown currency 'XYZ'"):
        load_rates(io.StringIO(bad))
    assert FxRate.objects.count() == 0


@pytest.mark.parametrize("rate", ["0", "-1", "abc"])
def test_rates_must_be_positive_numbers(rate):
    with pytest.raises(RateFileError, match="line 2"):
        load_rates(io.StringIO(f"date,base,currency,rate\n2026-11-01,EUR,USD,{rate}\n"))


def test_loading_the_same_file_twice_keeps_one_rate_per_day():
    load_rates(io.StringIO(RATES))
    load_rates(io.StringIO(RATES.replace("4.25", "4.30")))
    assert FxRate.objects.count() == 3
    assert FxRate.objects.get(currency="PLN", valid_from__day=1).rate == Decimal("4.30")


def test_load_rates_command_reports_errors_clearly(tmp_path, capsys):
    good = tmp_path / "rates.csv"
    good.write_text(RATES)
    assert main(["load-rates", str(good)]) == 0
    assert "loaded 3 rates" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("when,rate\n")
    assert main(["load-rates", str(bad)]) == 2
    assert "needs the columns" in capsys.readouterr().err
    assert main(["load-rates", str(tmp_path / "missing.csv")]) == 2

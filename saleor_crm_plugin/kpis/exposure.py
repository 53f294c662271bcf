"""Currency exposure: revenue by currency, at the rates of order time and at today's."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from ..money.currencies import convert_minor
from ..money.errors import MissingRate
from ..money.rates import RateBook
from ..scaleout.replica import analytics_connection
from ..tenants.models import Tenant
from .queries import buckets
from .sql import IN_PERIOD, IN_SLICE, PURCHASE, params, reporting
from .types import CurrencyExposure, Exposure, Slice

# Months numbered k = 1, 2, ... by ``width_bucket`` on their starts (as the series does):
# cheaper than truncating every order's local time.
_BY_MONTH = f"""
SELECT width_bucket(o.created_at, %(starts)s::timestamptz[]), o.currency, count(*),
       sum(o.total_gross_minor), sum(o.total_gross_base_minor)
FROM crm_order o WHERE {PURCHASE} AND {IN_PERIOD} AND {IN_SLICE}
GROUP BY 1, 2 ORDER BY 1, 2
"""


def _today(book: RateBook, currency: str, now: datetime) -> Decimal | None:
    try:
        return book.rate(currency, now)
    except MissingRate:
        return None


def currency_exposure(tenant: Tenant, where: Slice, now: datetime) -> CurrencyExposure:
    """Gross revenue of the slice per local month and currency, in that currency, in the base
    currency at the rates fixed on the orders, and at the rate valid ``now``.

    Today's value converts the month's sum once (rounded half to even at the end), as if the
    money were exchanged today; a currency without a rate today gets None, not a guess.
    """
    base = tenant.base_currency
    months = [day for day, _ in buckets(where, "month")]
    starts = [datetime.combine(day, time(), where.start.tzinfo) for day in months]
    with reporting(), analytics_connection().cursor() as cur:
        cur.execute(_BY_MONTH, params(tenant, where, starts=starts))
        rows: list[tuple[date, str, int, int, int]] = [
            (months[k - 1], c, int(n), int(local_sum), int(base_sum))
            for k, c, n, local_sum, base_sum in cur
        ]
    currencies = sorted({r[1] for r in rows})
    book = RateBook.load(base, currencies, now, now)
    rates = {c: r for c in currencies if (r := _today(book, c, now)) is not None}

    def exposure(month: date | None, currency: str, n: int, amount: int, at_order: int) -> Exposure:
        rate = rates.get(currency)
        today = convert_minor(amount, currency, rate, base) if rate is not None else None
        return Exposure(month, currency, n, amount, at_order, today)

    by_month = [exposure(*row) for row in rows]
    totals = []
    for currency in currencies:
        mine = [r for r in rows if r[1] == currency]
        totals.append(
            exposure(
                None,
                currency,
                sum(r[2] for r in mine),
                sum(r[3] for r in mine),
                sum(r[4] for r in mine),
            )
        )
    return CurrencyExposure(base, now, rates, totals, by_month)

"""A small cross-border store (base EUR, reported in Tokyo time) whose KPIs are worked out by
hand in the tests.

Rates (units per 1 EUR), until May 1 / from May 1 (today's):
  USD 1.25 / 1.00   JPY 160 / 200   KWD 0.400 / 0.320
so 1 USD = 0.80 / 1.00 EUR, 1 JPY = 0.00625 / 0.005 EUR, 1 KWD = 2.50 / 3.125 EUR.

Purchases (12:00 UTC, which is 21:00 the same day in Tokyo, unless noted):
  fay  DE web-eur  2025-12-10 60 EUR; 2026-03-25 40 EUR
  gus  AT web-eur  2025-12-31 16:00 UTC (Jan 1 01:00 in Tokyo) 30 EUR
  ann  DE web-eur  Jan 15 100 EUR; Mar 10 200 EUR (50 refunded); Apr 20 50 EUR
  cem  JP web-jpy  Feb 10 16,000 JPY (100 EUR); Mar 15 32,000 JPY (200 EUR)
  dan  KW web-kwd  Mar 5 10.000 KWD (25 EUR)
  bob  US web-usd  Mar 31 20:00 UTC (Apr 1 05:00 in Tokyo) 125 USD (100 EUR); May 5 300 USD
  eve  DE web-eur  Mar 20 80 EUR, cancelled: not a purchase
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from django.db import transaction

from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.money.services import load_rates
from saleor_crm_plugin.profiles.services import apply_events

TOKYO = "Asia/Tokyo"
NOW = datetime(2026, 5, 15, 12, tzinfo=UTC)  # 21:00 in Tokyo

RATES = """date,base,currency,rate,valid_to
2026-01-01T00:00:00+00:00,EUR,USD,1.25,2026-05-01T00:00:00+00:00
2025-12-01T00:00:00+00:00,EUR,JPY,160,2026-05-01T00:00:00+00:00
2025-12-01T00:00:00+00:00,EUR,KWD,0.400,2026-05-01T00:00:00+00:00
2026-05-01T00:00:00+00:00,EUR,USD,1.00,
2026-05-01T00:00:00+00:00,EUR,JPY,200,
2026-05-01T00:00:00+00:00,EUR,KWD,0.320,
"""

CHANNELS = {"EUR": "web-eur", "USD": "web-usd", "JPY": "web-jpy", "KWD": "web-kwd"}


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def place(
    tenant,
    order_id: str,
    email: str,
    minor: int,
    currency: str,
    when: datetime,
    country: str,
    *,
    refunded_minor: int = 0,
    status: str = "FULFILLED",
) -> None:
    order = Order(
        order_id=order_id, number=order_id, channel=CHANNELS[currency], currency=currency,
        status=status, user_id=None, email=email, language="en", country=country,
        created_at=when, updated_at=when, total_gross_minor=minor, total_net_minor=minor,
        charged_minor=minor, refunded_minor=refunded_minor,
    )  # fmt: skip
    with transaction.atomic():
        refused = apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, when, order=order))])
    assert refused == {}, refused


def build_store(tenant) -> None:
    load_rates(io.StringIO(RATES))
    place(tenant, "fay-1", "fay@example.de", 6000, "EUR", at(2025, 12, 10), "DE")
    place(tenant, "fay-2", "fay@example.de", 4000, "EUR", at(2026, 3, 25), "DE")
    place(tenant, "gus-1", "gus@example.at", 3000, "EUR", at(2025, 12, 31, 16), "AT")
    place(tenant, "ann-1", "ann@example.de", 10000, "EUR", at(2026, 1, 15), "DE")
    place(
        tenant, "ann-2", "ann@example.de", 20000, "EUR", at(2026, 3, 10), "DE", refunded_minor=5000
    )
    place(tenant, "ann-3", "ann@example.de", 5000, "EUR", at(2026, 4, 20), "DE")
    place(tenant, "cem-1", "cem@example.jp", 16000, "JPY", at(2026, 2, 10), "JP")
    place(tenant, "cem-2", "cem@example.jp", 32000, "JPY", at(2026, 3, 15), "JP")
    place(tenant, "dan-1", "dan@example.kw", 10000, "KWD", at(2026, 3, 5), "KW")
    place(tenant, "bob-1", "bob@example.com", 12500, "USD", at(2026, 3, 31, 20), "US")
    place(tenant, "bob-2", "bob@example.com", 30000, "USD", at(2026, 5, 5), "US")
    place(tenant, "eve-1", "eve@example.de", 8000, "EUR", at(2026, 3, 20), "DE", status="CANCELED")

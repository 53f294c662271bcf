"""Plain data the KPI queries take and return (amounts in minor units of the base currency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidReport

INTERVALS = ("day", "week", "month")
# A report spans at most ten years: the series and the cohort matrix stay a few thousand cells.
MAX_DAYS = 3660


@dataclass(frozen=True)
class Slice:
    """The orders a report looks at: a period of the store's local days, [start, end), and
    optionally one channel and one country (the order's, as Saleor sent it)."""

    start: datetime
    end: datetime
    time_zone: str
    channel: str = ""
    country: str = ""

    @staticmethod
    def of_days(
        first: date, stop: date, time_zone: str, channel: str = "", country: str = ""
    ) -> Slice:
        """From ``first`` 00:00 to ``stop`` 00:00 in ``time_zone`` (``stop`` not included), so a
        month in Tokyo starts nine hours before the same month in UTC."""
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidReport(
                f"Unknown time zone {time_zone!r}; give an IANA name such as Europe/Berlin.",
                field="timeZone",
            ) from exc
        if stop <= first:
            raise InvalidReport("The period's end must be after its start.", field="period")
        if (stop - first).days > MAX_DAYS:
            raise InvalidReport(f"A period spans at most {MAX_DAYS} days.", field="period")
        country = country.strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise InvalidReport("Give the country as a 2-letter code, e.g. DE.", field="country")
        return Slice(
            start=datetime.combine(first, time(), zone),
            end=datetime.combine(stop, time(), zone),
            time_zone=time_zone,
            channel=channel.strip(),
            country=country,
        )


@dataclass(frozen=True)
class Bucket:
    """One step of a chart series (a local day, week starting Monday, or month)."""

    starts: date
    customers: int
    new_customers: int
    orders: int
    revenue_minor: int
    refunded_minor: int

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers

    @property
    def average_order_minor(self) -> int | None:
        return _average(self.revenue_minor, self.orders)


@dataclass(frozen=True)
class StagePoint:
    """Customers per lifecycle stage at one moment: a bucket's end, or now for the current one."""

    starts: date
    at: datetime
    stages: dict[str, int]


@dataclass(frozen=True)
class Churn:
    """Customers who went from not lost to lost (the lifecycle stage) within the period."""

    churned: int
    could_churn: int  # not lost at the start, or bought during the period

    @property
    def rate(self) -> Decimal | None:
        return _share(self.churned, self.could_churn)


@dataclass(frozen=True)
class Recovery:
    started: int
    reminded: int
    recovered: int
    revenue_minor: int

    @property
    def rate(self) -> Decimal | None:
        return _share(self.recovered, self.reminded)


@dataclass(frozen=True)
class Summary:
    """The headline figures, from one statement."""

    currency: str
    customers: int
    new_customers: int
    repeat_customers: int  # of the period's customers: 2 or more purchases ever, before the end
    orders: int
    revenue_minor: int  # gross
    refunded_minor: int
    lifetime_value_minor: int  # the period's customers' net spend ever, before the end, summed

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers

    @property
    def net_revenue_minor(self) -> int:
        return self.revenue_minor - self.refunded_minor

    @property
    def average_order_minor(self) -> int | None:
        return _average(self.revenue_minor, self.orders)

    @property
    def repeat_purchase_rate(self) -> Decimal | None:
        return _share(self.repeat_customers, self.customers)

    @property
    def historical_value_minor(self) -> int | None:
        return _average(self.lifetime_value_minor, self.customers)


@dataclass(frozen=True)
class CampaignResponse:
    """One campaign launched in the period: its audience (segment, RFM group or stage) and the
    orders attributed to it (campaigns/queries.py ``response``), in the base currency."""

    campaign_id: int
    campaign_name: str
    audience: str
    recipients: int
    responders: int
    orders: int
    revenue_minor: int

    @property
    def rate(self) -> float | None:
        return self.responders / self.recipients if self.recipients else None


@dataclass(frozen=True)
class Kpis(Summary):
    churn: Churn
    recovery: Recovery
    stages: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, int] = field(default_factory=dict)
    series: list[Bucket] = field(default_factory=list)
    stage_series: list[StagePoint] = field(default_factory=list)
    # None when the store has no predictions yet (never guessed).
    predicted_value_minor: int | None = None
    campaign_response: list[CampaignResponse] = field(default_factory=list)


@dataclass(frozen=True)
class CohortCell:
    months_since: int
    customers: int
    share: Decimal


@dataclass(frozen=True)
class Cohort:
    month: date
    customers: int
    cells: list[CohortCell]


@dataclass(frozen=True)
class Exposure:
    """Revenue in one currency (over one month, or the whole period when ``month`` is None)."""

    month: date | None
    currency: str
    orders: int
    revenue_minor: int  # in ``currency``
    at_order_minor: int  # base currency, each order at the rate fixed when it was placed
    at_today_minor: int | None  # base currency at today's rate; None without a rate

    @property
    def difference_minor(self) -> int | None:
        if self.at_today_minor is None:
            return None
        return self.at_today_minor - self.at_order_minor


@dataclass(frozen=True)
class CurrencyExposure:
    currency: str  # the base currency
    rates_at: datetime
    today_rates: dict[str, Decimal]  # base units per one unit of each currency, now
    totals: list[Exposure]
    months: list[Exposure]


def _share(part: int, whole: int) -> Decimal | None:
    """A ratio rounded to four places; None when there is nothing to divide by."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def _average(total: int, count: int) -> int | None:
    """Rounded half to even, in minor units, like every conversion of the money package."""
    if count == 0:
        return None
    return int((Decimal(total) / Decimal(count)).quantize(Decimal(1)))

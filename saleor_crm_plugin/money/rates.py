"""Looking up the FX rate in force at a moment, for many orders at once."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from .errors import MissingRate
from .models import FxRate


@dataclass(frozen=True)
class _Row:
    valid_from: datetime
    valid_to: datetime | None
    rate: Decimal


@dataclass
class RateBook:
    """Rates for one base currency over a time window, loaded with a single query.

    A rate is found directly (base -> currency), inverted (currency -> base), or through a pivot
    currency both are quoted against (an ECB table quotes everything against EUR), so a store
    with base USD can use a EUR-based rate file.
    """

    base: str
    _series: dict[tuple[str, str], list[_Row]] = field(default_factory=dict)

    @classmethod
    def load(cls, base: str, currencies: Iterable[str], start: datetime, end: datetime) -> RateBook:
        wanted = set(currencies) | {base}
        book = cls(base=base)
        if wanted == {base}:
            return book
        rows = (
            FxRate.objects.filter(Q(currency__in=wanted) | Q(base__in=wanted))
            .filter(valid_from__lte=end)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
            .order_by("valid_from")
            .values_list("base", "currency", "valid_from", "valid_to", "rate")
        )
        series: dict[tuple[str, str], list[_Row]] = defaultdict(list)
        for b, c, vf, vt, rate in rows:
            series[(b, c)].append(_Row(vf, vt, rate))
        book._series = dict(series)
        return book

    def _quote(self, base: str, currency: str, at: datetime) -> Decimal | None:
        """Units of ``currency`` per one ``base`` at ``at``, from a stored row or its inverse."""
        if base == currency:
            return Decimal(1)
        for (b, c), invert in (((base, currency), False), ((currency, base), True)):
            rows = self._series.get((b, c))
            if not rows:
                continue
            i = bisect.bisect_right([r.valid_from for r in rows], at) - 1
            if i < 0:
                continue
            row = rows[i]
            if row.valid_to is None or row.valid_to > at:
                return Decimal(1) / row.rate if invert else row.rate
        return None

    def rate(self, currency: str, at: datetime) -> Decimal:
        """Base units per one unit of ``currency`` at ``at``; raises ``MissingRate``."""
        if currency == self.base:
            return Decimal(1)
        direct = self._quote(self.base, currency, at)
        if direct is not None:
            return Decimal(1) / direct
        pivots = {b for (b, _c) in self._series} | {c for (_b, c) in self._series}
        for pivot in sorted(pivots - {currency, self.base}):
            per_pivot_cur = self._quote(pivot, currency, at)
            per_pivot_base = self._quote(pivot, self.base, at)
            if per_pivot_cur and per_pivot_base:
                return per_pivot_base / per_pivot_cur
        raise MissingRate(
            f"no FX rate from {currency} to {self.base} valid at {at.isoformat()}; "
            f"load one with `saleor-crm load-rates` and reprocess the delivery"
        )

"""Loading FX rates from a CSV file."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from django.db import transaction

from .currencies import validate_currency
from .errors import MoneyError
from .models import FxRate


class RateFileError(MoneyError):
    code = "bad_rate_file"


@dataclass(frozen=True)
class LoadResult:
    loaded: int


def _parse_moment(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_rates(source: Path | TextIO, *, source_name: str = "csv") -> LoadResult:
    """Load rates from CSV with columns ``date,base,currency,rate`` (optional ``valid_to``).

    Atomic: one bad line (unknown currency, a rate that is not a positive number) loads nothing
    and the error names the line. Re-loading the same file updates rates in place, so it can be
    run again safely; orders already converted keep the rate they were fixed with.
    """
    if isinstance(source, Path):
        with source.open(newline="", encoding="utf-8") as handle:
            return load_rates(handle, source_name=source_name or source.name)
    reader = csv.DictReader(source)
    required = {"date", "base", "currency", "rate"}
    if not reader.fieldnames or not required <= set(reader.fieldnames):
        raise RateFileError(
            f"rate file needs the columns {sorted(required)}, got {reader.fieldnames}"
        )
    rows: list[FxRate] = []
    for number, line in enumerate(reader, start=2):
        try:
            rate = Decimal(line["rate"].strip())
            if not rate.is_finite() or rate <= 0:
                raise RateFileError("rate must be a positive number")
            valid_to = line.get("valid_to") or ""
            rows.append(
                FxRate(
                    base=validate_currency(line["base"].strip().upper()),
                    currency=validate_currency(line["currency"].strip().upper()),
                    rate=rate,
                    valid_from=_parse_moment(line["date"]),
                    valid_to=_parse_moment(valid_to) if valid_to.strip() else None,
                    source=source_name[:64],
                )
            )
        except (MoneyError, InvalidOperation, ValueError, AttributeError) as exc:
            raise RateFileError(f"line {number}: {exc}") from exc
    with transaction.atomic():
        FxRate.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["base", "currency", "valid_from"],
            update_fields=["rate", "valid_to", "source"],
        )
    return LoadResult(loaded=len(rows))

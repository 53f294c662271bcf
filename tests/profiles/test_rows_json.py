"""A batch sent as one JSON parameter reads back in SQL as exactly the values written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from saleor_crm_plugin.inbox.types import Line
from saleor_crm_plugin.profiles.sql import bound_cursor, rows_json

pytestmark = pytest.mark.django_db

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def test_rates_times_text_and_lines_come_back_unchanged():
    line = Line("P1", "mug", 'Mug "Ø" \\ 名', "V1", "SKU", "home", "Home", 2, 1299)
    rows = [
        {
            "rate": Decimal("0.006250000000000000000123"),  # beyond a double's digits
            "at": datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=KOLKATA),
            "text": 'O\'Brien \\ "quoted" \u202e',
            "missing": None,
            "keys": ("a", "b"),
            "lines": (line,),
        },
        {"rate": Decimal(1), "at": datetime(2026, 1, 1, tzinfo=UTC), "text": "", "keys": ()},
    ]
    with bound_cursor() as cur:
        cur.execute(
            "SELECT rate, at, text, missing, keys, lines FROM jsonb_to_recordset(%s::jsonb)"
            " AS v(rate numeric, at timestamptz, text text, missing text, keys text[],"
            " lines jsonb)",
            [rows_json(rows)],
        )
        got = cur.fetchall()
    assert got[0][0] == Decimal("0.006250000000000000000123")
    assert got[0][1] == datetime(2026, 3, 28, 20, 29, 59, 999999, tzinfo=UTC)
    assert got[0][2:5] == ('O\'Brien \\ "quoted" \u202e', None, ["a", "b"])
    assert json.loads(got[0][5]) == [  # Django's connection reads jsonb as its text
        {
            "product_id": "P1",
            "product_slug": "mug",
            "product_name": 'Mug "Ø" \\ 名',
            "variant_id": "V1",
            "sku": "SKU",
            "category_slug": "home",
            "category_name": "Home",
            "quantity": 2,
            "total_gross_minor": 1299,
        }
    ]
    assert got[1] == (Decimal(1), datetime(2026, 1, 1, tzinfo=UTC), "", None, [], None)


def test_a_database_error_comes_out_as_djangos():
    from django.db import DataError

    with pytest.raises(DataError), bound_cursor() as cur:
        cur.execute("SELECT * FROM jsonb_to_recordset(%s::jsonb) AS v(n int)", ['[{"n": "x"}]'])

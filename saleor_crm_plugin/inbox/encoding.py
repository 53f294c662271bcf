"""The bytes a delivery body is made of, when we build it ourselves (plugin hooks, backfill)."""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any


def encode(value: Any) -> str:
    """Compact JSON in which a ``Decimal`` is written as its own digits.

    ``json.dumps`` can only write it through ``float``, which is exact for 6.205 but not for
    every amount Saleor can hold; the digits Saleor sent are what the parser must read back.
    Key order is kept, so the same node always gives the same bytes (and the same dedupe key).

    The C encoder does the work: each ``Decimal`` is first written as a string holding a marker
    no payload can contain (a per-process random token), which is then replaced by the bare
    digits. A backfill encodes every node of a store, so this is on the hot path.
    """
    text = json.dumps(value, separators=(",", ":"), default=_decimal_marker)
    return _MARKED.sub(r"\1", text) if _MARK in text else text


_TOKEN = secrets.token_hex(8)
_MARK = f"\\u001f{_TOKEN}:"  # how json.dumps writes the marker's leading control character
_MARKED = re.compile(r'"\\u001f' + _TOKEN + r':([-+.0-9Ee]+)"')


def _decimal_marker(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return f"\x1f{_TOKEN}:{value}"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")

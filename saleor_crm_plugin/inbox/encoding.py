"""The bytes a delivery body is made of, when we build it ourselves (plugin hooks, backfill)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any


def encode(value: Any) -> str:
    """Compact JSON in which a ``Decimal`` is written as its own digits.

    ``json.dumps`` can only write it through ``float``, which is exact for 6.205 but not for
    every amount Saleor can hold; the digits Saleor sent are what the parser must read back.
    Key order is kept, so the same node always gives the same bytes (and the same dedupe key).
    """
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _write(value: Any, out: Callable[[str], object]) -> None:
    if isinstance(value, dict):
        out("{")
        for i, (key, item) in enumerate(value.items()):
            out(("," if i else "") + json.dumps(str(key)) + ":")
            _write(item, out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for i, item in enumerate(value):
            if i:
                out(",")
            _write(item, out)
        out("]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out(str(value))
    elif value is None or isinstance(value, str | int | float):
        out(json.dumps(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

"""The in-process Saleor plugin door. ``CRMPlugin`` imports Saleor, so it loads only inside it."""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "CRMPlugin":
        from .plugin import CRMPlugin

        return CRMPlugin
    raise AttributeError(name)

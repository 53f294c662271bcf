"""The Saleor we run inside, when we are the in-process plugin (nothing outside Saleor)."""

from __future__ import annotations

from typing import Any


def host_saleor_keys() -> tuple[str, dict[str, Any]] | None:
    """(issuer, JWKS) of the host Saleor, read in-process; None when not inside Saleor."""
    try:
        from saleor.core.jwt_manager import get_jwt_manager
    except ImportError:
        return None
    manager = get_jwt_manager()
    return str(manager.get_issuer()), dict(manager.get_jwks())

"""The Saleor we run inside, when we are the in-process plugin (nothing outside Saleor)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any


def host_saleor_keys() -> tuple[str, dict[str, Any]] | None:
    """(issuer, JWKS) of the host Saleor, read in-process; None when not inside Saleor."""
    try:
        from saleor.core.jwt_manager import get_jwt_manager
    except ImportError:
        return None
    manager = get_jwt_manager()
    return str(manager.get_issuer()), dict(manager.get_jwks())


def host_staff_permissions(user_id: str) -> frozenset[str] | None:
    """Saleor's permission names (e.g. MANAGE_USERS) of a staff member of the host Saleor.

    A staff member's own access token (``tokenCreate``, the dashboard's) says ``is_staff`` but
    carries no permissions: Saleor reads them from its database on every request. Inside Saleor
    we share that database, so we read them the same way. None when not inside Saleor; empty
    for an unknown, inactive or non-staff user.
    """
    try:
        import graphene
        from saleor.account.models import User
        from saleor.permission.enums import get_permission_names
    except ImportError:
        return None
    try:
        kind, pk = graphene.Node.from_global_id(user_id)
    except (TypeError, ValueError, UnicodeDecodeError):
        return frozenset()
    if kind != "User" or not str(pk).isdigit():
        return frozenset()
    user = User.objects.filter(pk=int(pk), is_active=True, is_staff=True).first()
    if user is None:
        return frozenset()
    return frozenset(get_permission_names(user.effective_permissions))


def host_writer() -> AbstractContextManager[Any]:
    """Inside Saleor, its ``allow_writer()``: Saleor's Celery tasks must say they write to the
    primary database (its tests raise, production logs, otherwise). Elsewhere, nothing."""
    try:
        from saleor.core.db.connection import allow_writer
    except ImportError:
        return nullcontext()
    return allow_writer()  # type: ignore[no-any-return]

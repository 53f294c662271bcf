"""Plain values the shared-knowledge verbs take."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who did it, as the token named them: a staff member, an app, or the customer."""

    kind: str  # "staff", "app" or "customer"
    user_id: str = ""
    email: str = ""
    can_manage_staff: bool = False  # Saleor's MANAGE_STAFF: may delete anyone's note

    @property
    def label(self) -> str:
        return self.email or self.user_id or self.kind

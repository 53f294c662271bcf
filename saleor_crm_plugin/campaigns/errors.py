"""Campaign errors with stable codes (the GraphQL door maps them to error codes)."""

from __future__ import annotations


class CampaignError(Exception):
    """A request the campaign cannot take; ``code`` is stable, ``field`` names the input."""

    def __init__(self, message: str, *, code: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field

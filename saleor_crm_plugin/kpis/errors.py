from __future__ import annotations


class InvalidReport(ValueError):
    """A report was asked for with input it cannot use; ``field`` names the argument."""

    code = "invalid_report"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field

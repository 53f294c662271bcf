"""Consent errors with stable codes."""

from __future__ import annotations


class ConsentError(Exception):
    code = "consent_error"


class NothingToConfirm(ConsentError):
    """A double opt-in confirmation without a grant waiting for it."""

    code = "nothing_to_confirm"

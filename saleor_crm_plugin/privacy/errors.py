"""Consent errors with stable codes."""

from __future__ import annotations


class ConsentError(Exception):
    code = "consent_error"


class NothingToConfirm(ConsentError):
    """A double opt-in confirmation without a grant waiting for it."""

    code = "nothing_to_confirm"


class UnknownPurpose(ConsentError, ValueError):
    """A purpose the ledger does not know (e.g. "BEHAVIOUR_TRACKING" for "behaviour_tracking"):
    refused, so no line that no one can read back is ever written."""

    code = "unknown_purpose"

"""Reasons a Stripe event could not be applied; the code is recorded on its delivery."""


class StripeEventError(ValueError):
    code = "stripe_event"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class StripeNotConfigured(Exception):
    """The tenant has no Stripe secret key."""

    code = "stripe_not_configured"

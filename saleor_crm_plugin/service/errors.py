"""Refusals of the shared-knowledge verbs, with stable codes the GraphQL door passes on."""

from __future__ import annotations


class ServiceError(ValueError):
    """A request we refuse, in words staff or a customer understand; nothing was changed."""

    code = "INVALID"

    def __init__(self, message: str, *, field: str = "", code: str = "") -> None:
        super().__init__(message)
        self.field = field
        if code:
            self.code = code


class NotFound(ServiceError):
    code = "NOT_FOUND"


class NotAllowed(ServiceError):
    """Only a note's author, or staff who manage staff, may delete it."""

    code = "NOT_AUTHOR"


class RateLimited(ServiceError):
    code = "RATE_LIMITED"

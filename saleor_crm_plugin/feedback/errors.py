"""Why feedback was refused, with stable codes the doors map to messages or GraphQL errors."""

from __future__ import annotations


class FeedbackError(ValueError):
    code = "invalid"


class InvalidRating(FeedbackError):
    code = "invalid_rating"


class CommentTooLong(FeedbackError):
    code = "comment_too_long"


class UnknownOrder(FeedbackError):
    """No such order in this store, or it is not the customer's."""

    code = "unknown_order"

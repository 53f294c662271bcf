"""Signed rating links: they work without login and cannot be forged, altered or reused for
another order.

The token names the store and the Saleor order only, not the profile: if a guest is later
folded into their account, the link still finds the order and, through it, the person. The
rating itself travels in the query string (``?rating=4``), unsigned: it is the customer's
choice, and the page lets them change it before saving. Links expire after
``CRM_FEEDBACK_LINK_DAYS``: a review of an order from years ago says little.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

_SALT = "saleor_crm_plugin.feedback"


@dataclass(frozen=True)
class FeedbackToken:
    tenant_id: int
    order_id: str


class BadFeedbackToken(ValueError):
    """A token that was altered, truncated, signed with another key or has expired."""


def make_feedback_token(tenant_id: int, order_id: str) -> str:
    return signing.dumps([tenant_id, order_id], salt=_SALT, compress=True)


def read_feedback_token(token: str, max_age_seconds: int) -> FeedbackToken:
    try:
        tenant_id, order_id = signing.loads(token, salt=_SALT, max_age=max_age_seconds)
        return FeedbackToken(int(tenant_id), str(order_id))
    except (signing.BadSignature, ValueError, TypeError) as exc:  # SignatureExpired included
        raise BadFeedbackToken("the feedback link is invalid or has expired") from exc

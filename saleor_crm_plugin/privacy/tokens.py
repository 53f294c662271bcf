"""Signed unsubscribe tokens: the link works without login and cannot be forged or altered.

``django.core.signing`` with its own salt, so a token from any other part of the site (or a
session cookie) is never accepted here. Tokens do not expire: an unsubscribe link in a
years-old e-mail must still work (RFC 8058 and the CAN-SPAM/GDPR expectation).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

_SALT = "saleor_crm_plugin.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeToken:
    tenant_id: int
    profile_id: int
    purpose: str
    channel: str


class BadToken(ValueError):
    """A token that was altered, truncated or signed with another key."""


def make_token(tenant_id: int, profile_id: int, purpose: str, channel: str) -> str:
    return signing.dumps([tenant_id, profile_id, purpose, channel], salt=_SALT, compress=True)


def read_token(token: str) -> UnsubscribeToken:
    try:
        tenant_id, profile_id, purpose, channel = signing.loads(token, salt=_SALT)
        return UnsubscribeToken(int(tenant_id), int(profile_id), str(purpose), str(channel))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadToken("the unsubscribe link is invalid or was altered") from exc

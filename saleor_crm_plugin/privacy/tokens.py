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


_CONFIRM_SALT = "saleor_crm_plugin.confirm_consent"


@dataclass(frozen=True)
class ConfirmToken:
    tenant_id: int
    profile_id: int
    purpose: str
    channel: str


def make_confirm_token(tenant_id: int, profile_id: int, purpose: str, channel: str) -> str:
    """The double opt-in link's token; it expires (``CRM_CONFIRMATION_DAYS``), unlike the
    unsubscribe link's, since an old confirmation link should not grant consent years later."""
    return signing.dumps(
        [tenant_id, profile_id, purpose, channel], salt=_CONFIRM_SALT, compress=True
    )


def read_confirm_token(token: str, max_age_seconds: int) -> ConfirmToken:
    try:
        tenant_id, profile_id, purpose, channel = signing.loads(
            token, salt=_CONFIRM_SALT, max_age=max_age_seconds
        )
        return ConfirmToken(int(tenant_id), int(profile_id), str(purpose), str(channel))
    except (signing.BadSignature, ValueError, TypeError) as exc:  # SignatureExpired included
        raise BadToken("the confirmation link is invalid or has expired") from exc

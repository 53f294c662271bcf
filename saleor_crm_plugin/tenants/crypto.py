"""Encryption of app tokens at rest: a database dump alone must not let anyone call Saleor."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from ..conf import crm_settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(("saleor-crm-token:" + crm_settings.ENCRYPTION_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(cipher: str) -> str:
    """Decrypt a stored token; a rotated key yields an empty token (the app must be reinstalled)."""
    if not cipher:
        return ""
    try:
        return _fernet().decrypt(cipher.encode()).decode()
    except InvalidToken:
        return ""

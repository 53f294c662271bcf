"""Personal discounts in reminders and win-back e-mails: a single-use Saleor voucher per message.

Exactly once, and what we accept
--------------------------------
The code is derived from a secret and the message's own key (flow and step, or the customer's
dormant spell), so every attempt for one message asks Saleor for the same code: a retry after a
failure, or after a worker died between Saleor's answer and our commit, finds the voucher made
the first time instead of making a second one (``issue_personal`` is safe to repeat). When
Saleor cannot be reached the message is not queued at all and the caller tries again later: a
reminder never goes out promising a code that does not exist, nor without the code it promised.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings

from ..loyalty.issuers import SaleorAPIIssuer, SaleorORMIssuer
from ..loyalty.rewards import Channel, RewardError
from ..money.currencies import to_minor
from ..tenants.models import Tenant
from ..tenants.services import PLUGIN_TENANT_URL, app_token
from ..tenants.store_settings import Discount

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by people


class DiscountUnavailable(Exception):
    """Saleor did not create the voucher now; the message waits and is tried again."""

    code = "discount_unavailable"


class PersonalIssuer(Protocol):
    def issue_personal(
        self,
        *,
        code: str,
        percentage: bool,
        value: Any,
        channel: Channel,
        name: str,
        ends_at: datetime,
    ) -> tuple[str, datetime]: ...


@dataclass(frozen=True)
class Issued:
    code: str
    voucher_id: str
    expires_at: datetime


def personal_code(tenant_id: int, key: str) -> str:
    """``CRM-`` and ten characters (50 bits) from an HMAC of the message key: the same key
    always gives the same code, and nobody without the secret can guess another's."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"voucher:{tenant_id}:{key}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(10):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "CRM-" + "".join(chars)


def issuer_for(tenant: Tenant) -> PersonalIssuer:
    """Saleor's models inside Saleor (plugin door), its GraphQL API with the app token (app)."""
    if tenant.saleor_api_url == PLUGIN_TENANT_URL:
        return SaleorORMIssuer()
    token = app_token(tenant)
    if not token:
        raise DiscountUnavailable("the store's app token is unavailable")
    return SaleorAPIIssuer(tenant.saleor_api_url, token)


def issue(
    tenant: Tenant,
    discount: Discount,
    *,
    key: str,
    channel: str,
    currency: str,
    email: str,
    starts: datetime,
) -> Issued:
    """Create (or find again) the voucher for message ``key``, valid ``discount.days`` from
    ``starts``. Give a ``starts`` that is the same on every attempt (the step's due time), so
    a retry asks for the same voucher. Raises ``DiscountUnavailable``."""
    code = personal_code(tenant.pk, key)
    try:
        voucher_id, ends_at = issuer_for(tenant).issue_personal(
            code=code,
            percentage=discount.percentage,
            value=discount.value,
            channel=Channel(channel, currency),
            name=f"CRM {key} for {email}"[:255],
            ends_at=starts + timedelta(days=discount.days),
        )
    except RewardError as exc:
        raise DiscountUnavailable(str(exc)) from exc
    return Issued(code=code, voucher_id=voucher_id, expires_at=ends_at)


def message_data(discount: Discount, issued: Issued, currency: str) -> dict[str, Any]:
    """What the templates show: the code, its value and its end (formatted when rendered)."""
    data: dict[str, Any] = {
        "discount_code": issued.code,
        "discount_expires_at": issued.expires_at.isoformat(),
    }
    if discount.percentage:
        data["discount_percent"] = str(discount.value)
    else:
        data["discount_amount_minor"] = to_minor(discount.value, currency)
        data["discount_currency"] = currency
    return data

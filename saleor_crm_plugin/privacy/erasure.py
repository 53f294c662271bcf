"""Erasure on request (right to be forgotten), the same forgetting Saleor's customer deletion
triggers, started by staff instead.

What stays is anonymous: orders and checkouts with their amounts, currencies, dates, channels
and lines (the store's revenue and KPIs), with no profile, e-mail, user id, address or card
fingerprint; referral counts of other customers; suppression and tombstone hashes. Everything
else about the person goes: profile, timeline, behaviour, points, tier, scores, segment stays,
recovery flows, messages, consents, memberships, and every raw inbox body naming them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from ..profiles.identity import delete_customers
from ..profiles.models import CheckoutRecord, OrderRecord, Profile
from ..profiles.traces import forget_as_friend, scrub_deliveries
from ..segments.scores import INBOX_LOCK

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erasure:
    tombstone_user_id: str
    erased_at: datetime


def erase_customer(
    profile: Profile, *, reason: str, actor: str, at: datetime | None = None
) -> Erasure:
    """Forget ``profile``'s person for good, in one transaction.

    A guest has no Saleor user id, so the tombstone is keyed by ``guest:`` and the salted
    e-mail hash; its e-mail hash keeps late guest activity from being attached again. An account
    erased here still exists in Saleor: the tombstone keeps its later events from rebuilding a
    profile (their orders are kept anonymous).
    """
    at = at or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cur:
            # The inbox's per-tenant lock: no batch of this store is applied meanwhile.
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INBOX_LOCK, profile.tenant_id])
        locked = Profile.objects.select_for_update().get(pk=profile.pk)
        key = (
            locked.user_id
            or "guest:"
            + hashlib.sha256(f"{locked.tenant_id}:{locked.pk}".encode()).hexdigest()[:40]
        )
        other_emails = _detach_records(locked)
        delete_customers(
            locked.tenant_id, [(key, locked.email, at)], reason=reason or "request", actor=actor
        )
        with connection.cursor() as cur:
            scrub_deliveries(cur, locked.tenant_id, other_emails, [])
            forget_as_friend(cur, locked.tenant_id, other_emails)
    logger.info("customer erased on request (tenant %s, profile %s)", locked.tenant_id, locked.pk)
    return Erasure(tombstone_user_id=key, erased_at=at)


def _detach_records(profile: Profile) -> set[str]:
    """Orders and checkouts attached to the profile under another e-mail (an address the
    account had before) are not found by user id or e-mail: detach them by the profile, and
    return those addresses so their traces go too."""
    orders = OrderRecord.objects.filter(profile=profile)
    checkouts = CheckoutRecord.objects.filter(profile=profile)
    emails = set(orders.exclude(email="").values_list("email", flat=True))
    emails |= set(checkouts.exclude(email="").values_list("email", flat=True))
    orders.update(profile=None, email="", user_id=None, address_key="", payment_keys=[])
    checkouts.update(profile=None, email="", user_id=None)
    return emails - {profile.email}

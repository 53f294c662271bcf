"""Referrals: a customer's code brings a friend; both are rewarded by the friend's first order.

The friend claims the code when they give their e-mail (sign-up or checkout). Claims that are
self-referrals or look like abuse are refused and kept with the reason: the advocate's own
address (after normalisation), a customer who has bought before, or too many claims from one
IP address in a week. Rewards are points: both the friend and the advocate get a bonus when the
friend's first order earns, pending through its return window (so the advocate is rewarded only
when the order is past it), and taken back if that order is cancelled or refunded in full.

That first order is checked against the advocate's own orders before anyone is rewarded: the
same shipping address (street line 1, postal code, country, case and spaces aside) or the same
card (brand, first and last digits, expiry) refuses the referral with the reason kept. Both are
compared as keyed hashes (``profiles/fingerprints.py``), never in clear.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..conf import crm_settings
from ..inbox.saleor_payloads import normalize_email
from ..profiles.models import OrderRecord, Profile
from ..tenants.models import Tenant
from . import earning
from .models import Referral, ReferralCode, ReferralStatus

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


class UnknownCode(Exception):
    code = "unknown_referral_code"


def code_for(profile: Profile) -> str:
    """The customer's referral code, created on first use."""
    try:
        found: ReferralCode | None = profile.referral_code  # read with the profile (crmMe)
    except ReferralCode.DoesNotExist:
        found = None
    while found is None:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        try:
            with transaction.atomic():
                found = ReferralCode.objects.create(
                    tenant_id=profile.tenant_id, profile=profile, code=code
                )
        except IntegrityError:
            found = ReferralCode.objects.filter(profile=profile).first()
    return found.code


def link_for(code: str) -> str:
    template = crm_settings.REFERRAL_LINK_TEMPLATE
    return template.replace("{code}", code) if template else ""


def claim(
    tenant: Tenant, code: str, friend_email: str, ip: str | None, now: datetime | None = None
) -> Referral:
    """Record a friend's arrival with ``code``; refused claims are kept with the reason."""
    moment = now or timezone.now()
    owner = (
        ReferralCode.objects.filter(tenant=tenant, code=code.strip().upper())
        .select_related("profile")
        .first()
    )
    if owner is None:
        raise UnknownCode(f"{code!r} is not a referral code of this store")
    advocate, email = owner.profile, normalize_email(friend_email)
    existing = (
        Referral.objects.filter(tenant=tenant, friend_email=email)
        .exclude(status=ReferralStatus.REFUSED)
        .first()
    )
    if existing is not None:
        return existing
    reason = _refusal(tenant, advocate, email, ip, moment)
    referral = Referral(
        tenant=tenant,
        advocate=advocate,
        friend_email=email,
        status=ReferralStatus.REFUSED if reason else ReferralStatus.CLAIMED,
        reason=reason,
        ip=ip or None,
        created_at=moment,
    )
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError:  # the same friend claimed at the same moment elsewhere
        return Referral.objects.exclude(status=ReferralStatus.REFUSED).get(
            tenant=tenant, friend_email=email
        )
    return referral


def _refusal(tenant: Tenant, advocate: Profile, email: str, ip: str | None, now: datetime) -> str:
    if "@" not in email:
        return "not_an_email"
    if email == advocate.email:
        return "self_referral"
    if OrderRecord.objects.filter(tenant=tenant, email=email).exists():
        return "not_a_new_customer"
    if ip:
        recent = Referral.objects.filter(tenant=tenant, ip=ip, created_at__gte=now - timedelta(7))
        if recent.count() >= crm_settings.REFERRAL_MAX_PER_IP_WEEK:
            return "too_many_from_ip"
    return ""


def reward(tenant: Tenant, profile_ids: list[int]) -> None:
    """Both rewards for the claimed referrals of these (friend) profiles whose first order earned
    points and still counts; set-based, each reward once (the ledger's uniqueness rule). A first
    order shipped to an address or paid with a card of the advocate's refuses the referral
    (``same_address``, ``same_payment``) and rewards no one. The bonuses are the store's earning
    rules in force."""
    if not profile_ids:
        return
    rules = earning.rules_for(tenant)
    friend, advocate = rules.referral_friend_bonus, rules.referral_advocate_bonus
    if friend <= 0 and advocate <= 0:
        return
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH first_orders AS (
              SELECT DISTINCT ON (e.profile_id) e.profile_id, e.source_id AS order_id,
                     e.available_at, p.email
              FROM crm_points_entry e
              JOIN crm_profile p ON p.id = e.profile_id
              JOIN crm_order o ON o.tenant_id = e.tenant_id AND o.order_id = e.source_id
              WHERE e.tenant_id = %(tenant)s AND e.profile_id = ANY(%(ids)s) AND e.kind = 'earn'
                AND o.status <> 'CANCELED' AND o.refunded_minor < o.total_gross_minor
              ORDER BY e.profile_id, e.available_at, e.id
            ),
            claimed AS (
              SELECT r.id, r.advocate_id, f.profile_id AS friend_id, f.order_id, f.available_at,
                CASE
                  WHEN fo.address_key <> '' AND EXISTS (
                    SELECT 1 FROM crm_order a
                    WHERE a.tenant_id = r.tenant_id AND a.profile_id = r.advocate_id
                      AND a.address_key = fo.address_key) THEN 'same_address'
                  WHEN cardinality(fo.payment_keys) > 0 AND EXISTS (
                    SELECT 1 FROM crm_order a
                    WHERE a.tenant_id = r.tenant_id AND a.profile_id = r.advocate_id
                      AND a.payment_keys && fo.payment_keys) THEN 'same_payment'
                END AS refusal
              FROM crm_referral r
              JOIN first_orders f ON f.email = r.friend_email
              JOIN crm_order fo ON fo.tenant_id = r.tenant_id AND fo.order_id = f.order_id
              WHERE r.tenant_id = %(tenant)s AND r.status = 'claimed'
            ),
            due AS (SELECT * FROM claimed WHERE refusal IS NULL),
            rewards AS (
              INSERT INTO crm_points_entry (tenant_id, profile_id, kind, points, source,
                source_id, created_at, available_at, reason, actor, data)
              SELECT %(tenant)s, who.profile_id, 'bonus', who.points, who.source, due.id::text,
                     now(), due.available_at, who.reason, '',
                     jsonb_build_object('order_id', due.order_id, 'referral', due.id)
              FROM due, LATERAL (VALUES
                (due.friend_id, %(friend)s, 'referral_friend', 'bonus of a referred friend'),
                (due.advocate_id, %(advocate)s, 'referral', 'a referred friend''s first order')
              ) AS who(profile_id, points, source, reason)
              WHERE who.points > 0
              ON CONFLICT (tenant_id, source, source_id, kind) DO NOTHING
            )
            UPDATE crm_referral r
            SET status = CASE WHEN c.refusal IS NULL THEN 'rewarded' ELSE 'refused' END,
                reason = coalesce(c.refusal, ''), order_id = c.order_id
            FROM claimed c WHERE r.id = c.id
            """,
            {"tenant": tenant.pk, "ids": profile_ids, "friend": friend, "advocate": advocate},
        )

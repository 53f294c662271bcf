"""Reads over profiles, returning plain values: one lookup, filtered pages, batched timelines."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from ..inbox.saleor_payloads import normalize_email
from ..tenants.models import Tenant
from .models import Profile, TimelineEntry


def find_profile(
    tenant: Tenant,
    *,
    profile_id: int | None = None,
    user_id: str | None = None,
    email: str = "",
) -> Profile | None:
    """The profile by our id, Saleor user id or e-mail (case-insensitive; account first).

    ``crmMe`` reads its customer with ``loyalty.standing`` instead: one statement with the
    loyalty standing it shows."""
    rows = Profile.objects.filter(tenant=tenant).select_related("tenant")
    if profile_id is not None:
        return rows.filter(pk=profile_id).first()
    if user_id:
        return rows.filter(user_id=user_id).first()
    if email:
        return (
            rows.filter(email=normalize_email(email))
            .order_by(F("user_id").asc(nulls_last=True), "id")
            .first()
        )
    return None


def profiles_by_user_keys(
    tenant: Tenant, *, user_ids: Sequence[str] = (), emails: Sequence[str] = ()
) -> tuple[dict[str, Profile], dict[str, Profile]]:
    """Profiles of many users in one query: (by Saleor user id, by normalized e-mail).

    By e-mail an account's profile wins over a guest profile with the same address, as in
    ``find_profile``.
    """
    wanted = {normalize_email(e) for e in emails if e}
    if not user_ids and not wanted:
        return {}, {}
    rows = (
        Profile.objects.filter(tenant=tenant)
        .select_related("tenant")
        .filter(Q(user_id__in=list(user_ids)) | Q(email__in=list(wanted)))
    )
    by_id: dict[str, Profile] = {}
    by_email: dict[str, Profile] = {}
    for profile in rows.order_by(F("user_id").asc(nulls_last=True), "id"):
        if profile.user_id:
            by_id.setdefault(profile.user_id, profile)
        if profile.email in wanted:
            by_email.setdefault(profile.email, profile)
    return by_id, by_email


def customers_of_orders(tenant: Tenant, order_ids: Sequence[str]) -> list[int]:
    """The profiles that placed these orders: what an inbox batch touched, for the per-customer
    refreshes that follow it (scores, predictions)."""
    if not order_ids:
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT profile_id FROM crm_order WHERE tenant_id = %s "
            "AND order_id = ANY(%s::text[]) AND profile_id IS NOT NULL",
            [tenant.pk, list(order_ids)],
        )
        return [row[0] for row in cur.fetchall()]


def channel_currency(tenant: Tenant, slug: str) -> str | None:
    """The currency of a channel, as the store's orders and checkouts in it have shown it."""
    from .models import CheckoutRecord, OrderRecord

    for model in (OrderRecord, CheckoutRecord):
        currency = (
            model.objects.filter(tenant=tenant, channel=slug)
            .values_list("currency", flat=True)
            .first()
        )
        if currency:
            return str(currency)
    return None


class SortField(StrEnum):
    LAST_ORDER = "last_order_at"
    FIRST_ORDER = "first_order_at"
    SPENT = "spent_gross_minor"
    ORDERS = "orders_count"
    CREATED = "created_at"


@dataclass(frozen=True)
class ProfileFilter:
    spent_min_minor: int | None = None
    spent_max_minor: int | None = None
    orders_min: int | None = None
    orders_max: int | None = None
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    last_order_from: datetime | None = None
    last_order_to: datetime | None = None
    first_order_from: datetime | None = None
    first_order_to: datetime | None = None
    search: str = ""
    is_guest: bool | None = None
    rfm_groups: tuple[str, ...] = ()  # from the customer's scores (segments/)
    stages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # any of these staff tags
    tiers: tuple[str, ...] = ()  # any of these loyalty tiers held now (loyalty/)


@dataclass
class Page:
    items: list[Profile]
    cursors: list[str]
    has_next: bool
    total: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _filtered(tenant: Tenant, f: ProfileFilter) -> QuerySet[Profile]:
    from ..service.models import Note, Tag  # service builds on profiles, not the reverse

    rows = Profile.objects.filter(tenant=tenant).select_related("tenant")
    conditions = {
        "spent_gross_minor__gte": f.spent_min_minor,
        "spent_gross_minor__lte": f.spent_max_minor,
        "orders_count__gte": f.orders_min,
        "orders_count__lte": f.orders_max,
        "last_order_at__gte": f.last_order_from,
        "last_order_at__lt": f.last_order_to,
        "first_order_at__gte": f.first_order_from,
        "first_order_at__lt": f.first_order_to,
    }
    rows = rows.filter(**{k: v for k, v in conditions.items() if v is not None})
    if f.countries:
        rows = rows.filter(country__in=[c.upper() for c in f.countries])
    if f.languages:
        rows = rows.filter(language__in=[lang.lower() for lang in f.languages])
    if f.channels:
        rows = rows.filter(channels__overlap=list(f.channels))
    if f.is_guest is not None:
        rows = rows.filter(user_id__isnull=f.is_guest)
    if f.rfm_groups:
        rows = rows.filter(scores__rfm_group__in=list(f.rfm_groups))
    if f.stages:
        rows = rows.filter(scores__stage__in=list(f.stages))
    if f.tiers:
        rows = rows.filter(tier__tier__in=list(f.tiers))
    if f.tags:
        wanted = [" ".join(t.split()).lower() for t in f.tags]
        rows = rows.filter(Exists(Tag.objects.filter(profile_id=OuterRef("pk"), tag__in=wanted)))
    if f.search:
        term = f.search.strip()
        # Staff search what they know too: a phrase from a note or part of a tag.
        rows = rows.filter(
            Q(email__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Exists(Note.objects.filter(profile_id=OuterRef("pk"), body__icontains=term))
            | Exists(Tag.objects.filter(profile_id=OuterRef("pk"), tag__icontains=term))
        )
    return rows


def _encode(value: Any, pk: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str) -> tuple[Any, int]:
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return value, int(pk)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc


def search_profiles(
    tenant: Tenant,
    filters: ProfileFilter,
    *,
    sort: SortField = SortField.LAST_ORDER,
    descending: bool = True,
    first: int = 20,
    after: str | None = None,
) -> Page:
    """A page of profiles in a stable order, by keyset (the cost does not grow with depth).

    Rows without a value for the sort field (e.g. no order yet) come last in either direction.
    """
    rows = _filtered(tenant, filters)
    total = rows.count()
    key = sort.value
    nulls = rows.filter(**{f"{key}__isnull": True})
    values = rows.filter(**{f"{key}__isnull": False})
    order = [F(key).desc() if descending else F(key).asc(), "-id" if descending else "id"]
    in_values = True
    if after:
        value, pk = _decode(after)
        if value is None:
            in_values = False
            nulls = nulls.filter(pk__lt=pk) if descending else nulls.filter(pk__gt=pk)
        else:
            if isinstance(value, str) and key.endswith("_at"):
                value = datetime.fromisoformat(value)
            op = "lt" if descending else "gt"
            values = values.filter(
                Q(**{f"{key}__{op}": value}) | Q(**{key: value, f"pk__{op}": pk})
            )
    items: list[Profile] = []
    if in_values:
        items = list(values.order_by(*order)[: first + 1])
    if len(items) <= first:
        rest = first + 1 - len(items)
        items += list(nulls.order_by("-id" if descending else "id")[:rest])
    has_next = len(items) > first
    items = items[:first]
    return Page(
        items=items,
        cursors=[_encode(getattr(p, key), p.pk) for p in items],
        has_next=has_next,
        total=total,
    )


def timelines(
    profile_ids: Sequence[int], *, limit: int, kinds: Sequence[str] = ()
) -> dict[int, list[TimelineEntry]]:
    """The newest ``limit`` entries of each profile, for many profiles in one query."""
    rows = TimelineEntry.objects.filter(profile_id__in=list(profile_ids))
    if kinds:
        rows = rows.filter(_kinds_filter(kinds))
    newest_first = [F("occurred_at").desc(), F("id").desc()]
    ranked = (
        rows.annotate(
            rank=Window(RowNumber(), partition_by=[F("profile_id")], order_by=newest_first)
        )
        .filter(rank__lte=limit)
        .order_by("profile_id", "-occurred_at", "-id")
    )
    found: dict[int, list[TimelineEntry]] = defaultdict(list)
    for entry in ranked:
        found[entry.profile_id].append(entry)
    return found


def _kinds_filter(kinds: Sequence[str]) -> Q:
    """Exact kinds ("crm.order.placed") or families ending in ".*" ("crm.case.*")."""
    condition = Q(kind__in=[k for k in kinds if not k.endswith(".*")])
    for family in (k[:-1] for k in kinds if k.endswith(".*")):
        condition |= Q(kind__startswith=family)
    return condition


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    cursors: list[str]
    has_next: bool


def _page_of(entries: list[TimelineEntry], first: int) -> TimelinePage:
    shown = entries[:first]
    return TimelinePage(
        entries=shown,
        cursors=[_encode(e.occurred_at, e.pk) for e in shown],
        has_next=len(entries) > first,
    )


def timeline_pages(
    profile_ids: Sequence[int], *, first: int, kinds: Sequence[str] = ()
) -> dict[int, TimelinePage]:
    """The first page (newest first) of many customers' timelines in one query."""
    found = timelines(profile_ids, limit=first + 1, kinds=kinds)
    return {pk: _page_of(found.get(pk, []), first) for pk in profile_ids}


def timeline_page(
    profile_id: int, *, first: int, after: str, kinds: Sequence[str] = ()
) -> TimelinePage:
    """A later page: entries strictly older than the cursor's (time, id), by keyset on the
    index (profile, -occurred_at), so deep pages cost what the first one does. Raises
    ``ValueError`` for a cursor we did not make."""
    value, pk = _decode(after)
    try:
        at = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("invalid cursor") from exc
    rows = TimelineEntry.objects.filter(profile_id=profile_id).filter(
        Q(occurred_at__lt=at) | Q(occurred_at=at, pk__lt=pk)
    )
    if kinds:
        rows = rows.filter(_kinds_filter(kinds))
    return _page_of(list(rows.order_by("-occurred_at", "-id")[: first + 1]), first)

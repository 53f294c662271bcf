"""A small hand-built store (base EUR) whose RFM groups, stages and flags are worked out by hand
in the tests, plus helpers to place orders through the same service the inbox uses."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from saleor_crm_plugin.inbox.types import Event, Kind, Order
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.profiles.services import apply_events

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def day(month: int, d: int, year: int = 2026) -> datetime:
    return datetime(year, month, d, 12, tzinfo=UTC)


def place(
    tenant,
    order_id: str,
    email: str,
    euros: int,
    at: datetime,
    *,
    status: str = "FULFILLED",
    refunded: int = 0,
    country: str = "DE",
    psp: tuple[str, ...] = (),
    updated_at: datetime | None = None,
    user_id: str | None = None,
) -> None:
    order = Order(
        order_id=order_id, number=order_id, channel="default", currency="EUR", status=status,
        user_id=user_id, email=email, language="de", country=country, created_at=at,
        updated_at=updated_at or at, total_gross_minor=euros * 100, total_net_minor=euros * 100,
        charged_minor=euros * 100, refunded_minor=refunded * 100, psp_references=psp,
    )  # fmt: skip
    with transaction.atomic():
        apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, updated_at or at, order=order))])


def build_store(tenant) -> None:
    """Five buyers and one customer with only cancelled orders.

    ann: 3 x 300 on Nov 1, 11, 21 (gap 10 days); bob: 2 x 200 on Sep 1, Oct 1 (gap 30);
    cem: 1 x 50 on Nov 25; dan: 2 x 100 on Jan 10, Feb 9 (gap 30); eve: 1 x 1000 on Jun 1,
    500 refunded; fay: two cancelled orders.
    """
    for i, d in enumerate((day(11, 1), day(11, 11), day(11, 21))):
        place(tenant, f"ann-{i}", "ann@example.de", 300, d, psp=(f"pi_ann_{i}",))
    place(tenant, "bob-0", "bob@example.at", 200, day(9, 1), country="AT")
    place(tenant, "bob-1", "bob@example.at", 200, day(10, 1), country="AT")
    place(tenant, "cem-0", "cem@example.ch", 50, day(11, 25), country="CH")
    place(tenant, "dan-0", "dan@example.fr", 100, day(1, 10), country="FR")
    place(tenant, "dan-1", "dan@example.fr", 100, day(2, 9), country="FR")
    place(tenant, "eve-0", "eve@example.de", 1000, day(6, 1), refunded=500)
    place(tenant, "fay-0", "fay@example.de", 80, day(11, 2), status="CANCELED")
    place(tenant, "fay-1", "fay@example.de", 80, day(11, 3), status="CANCELED")


def profile_id(email: str) -> int:
    return Profile.objects.get(email=email).pk

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from saleor_crm_plugin.inbox.services import accept, drain
from tests import recordings
from tests.graphql.conftest import ANNA, YUKI, gql, issuer  # noqa: F401

ANNA_EMAIL = "anna.mueller@example.de"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def store(tenant, rates, django_capture_on_commit_callbacks):
    for item in recordings.deliveries():
        accept(tenant, event=item.event, body=item.body, headers=dict(item.headers))
    with django_capture_on_commit_callbacks(execute=True):  # as after commit: the scrubs
        drain()
    return tenant


@pytest.fixture
def anna(store):
    """Anna, with something in every table that can hold a person's data."""
    from saleor_crm_plugin.loyalty.models import Birthday, Referral, ReferralCode, TierStatus
    from saleor_crm_plugin.messaging.models import Message
    from saleor_crm_plugin.models import Profile, Segment
    from saleor_crm_plugin.payments.models import Membership
    from saleor_crm_plugin.privacy.models import Source
    from saleor_crm_plugin.privacy.services import grant_consent
    from saleor_crm_plugin.recovery.models import RecoveryFlow
    from saleor_crm_plugin.segments.services import refresh_members
    from saleor_crm_plugin.tracking.models import TrackedEvent
    from saleor_crm_plugin.tracking.services import TrackInput, record_events

    anna = Profile.objects.get(tenant=store, user_id=ANNA)
    yuki = Profile.objects.get(tenant=store, user_id=YUKI)
    grant_consent(anna, "marketing_email", source=Source.CHECKOUT, wording_version="2026-05")
    TierStatus.objects.create(tenant=store, profile=anna, tier="Gold", since=NOW, program_version=1)
    ReferralCode.objects.create(tenant=store, profile=anna, code="ANNA2026")
    Referral.objects.create(
        tenant=store, advocate=yuki, friend_email=ANNA_EMAIL, status="claimed",
        ip="203.0.113.7", created_at=NOW,
    )  # fmt: skip
    Birthday.objects.create(tenant=store, profile=anna, month=5, day=17, set_at=NOW)
    Message.objects.create(
        tenant=store, profile=anna, purpose="marketing", kind="abandoned_checkout",
        locale="de", context={"first_name": "Anna", "email": ANNA_EMAIL},
        dedupe_key="privacy-test-1", status="sent", created_at=NOW, due_at=NOW, sent_at=NOW,
        last_error=f"450 <{ANNA_EMAIL}> try again later",
    )  # fmt: skip
    Membership.objects.create(
        tenant=store, profile=anna, subscription_id="sub_anna", customer_id="cus_anna",
        tier="Gold", status="active", event_created=1,
    )  # fmt: skip
    RecoveryFlow.objects.create(
        tenant=store, profile=anna, checkout_id="Q2hlY2tvdXQ6YW5uYQ==", currency="EUR",
        lines=[{"name": "Teekanne", "quantity": 1}], checkout_updated_at=NOW,
        delays_hours=[1, 24], status="active", started_at=NOW, next_due_at=NOW,
    )  # fmt: skip
    events = [
        TrackInput("anna-view-0001", "product_viewed", NOW - timedelta(hours=1), "UHJvZHVjdDox"),
        TrackInput("anna-search-01", "searched", NOW - timedelta(hours=1), query="teekanne"),
    ]
    record_events(store, "visitor-anna", events, consent=True, ip="203.0.113.7", email=ANNA_EMAIL)
    # Later, signed out on the same device, she searched for her own address: never linked.
    TrackedEvent.objects.create(
        tenant=store, visitor_id="visitor-anna", client_event_id="anna-search-02",
        kind="searched", query=ANNA_EMAIL, occurred_at=NOW,
    )  # fmt: skip
    segment = Segment.objects.create(
        tenant=store,
        name="Germany",
        rules={"all": [{"field": "country", "op": "eq", "value": "DE"}]},
    )
    refresh_members(segment, NOW)
    anna.refresh_from_db()
    return anna


def crm_text_columns() -> list[tuple[str, str, str]]:
    """(table, column, type) of every column of every CRM table that can hold text."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name LIKE 'crm\\_%%'
              AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea', 'ARRAY',
                                'inet')
            ORDER BY table_name, column_name
            """
        )
        return list(cur.fetchall())


def tables_mentioning(*needles: str) -> dict[str, int]:
    """``table.column`` -> rows whose value contains any needle, in any letter case."""
    patterns = [f"%{n.lower()}%" for n in needles]
    found: dict[str, int] = {}
    with connection.cursor() as cur:
        for table, column, kind in crm_text_columns():
            value = f"encode({column}, 'escape')" if kind == "bytea" else f"{column}::text"
            cur.execute(
                f"SELECT count(*) FROM {table} WHERE lower({value}) LIKE ANY(%s)", [patterns]
            )
            (count,) = cur.fetchone()
            if count:
                found[f"{table}.{column}"] = count
    return found


def staff_token(signer: Any) -> str:
    return signer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))

"""The inbox as monthly partitions: rows, ids and the dedupe survive the conversion, a replay in
another month is still a duplicate, deliveries are applied, and months are kept ready ahead.

Each test converts the test database's inbox inside the test's transaction (PostgreSQL's DDL is
transactional), so the rollback at its end restores the unpartitioned table.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from saleor_crm_plugin.inbox.services import accept, accept_many, drain
from saleor_crm_plugin.models import Delivery, Profile
from saleor_crm_plugin.scaleout.partitions import ensure_partitions, is_partitioned, partition_inbox
from tests import recordings

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def store(tenant, body: bytes, received: str | None = None) -> int:
    found = accept(tenant, event="ORDER_UPDATED", body=body, headers={})
    if received:
        Delivery.objects.filter(pk=found.delivery_id).update(received_at=received)
    return found.delivery_id


def partition_of(delivery_id: int) -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableoid::regclass::text FROM crm_inbox_delivery WHERE id = %s", [delivery_id]
        )
        return cur.fetchone()[0]


def partitions() -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'crm_inbox_delivery'::regclass ORDER BY 1"
        )
        return [r[0] for r in cur.fetchall()]


def test_conversion_keeps_every_delivery_its_id_and_month(tenant):
    sep = store(tenant, b'{"n": 1}', "2026-09-14T10:00:00Z")
    octo = store(tenant, b'{"n": 2}', "2026-10-31T23:59:59Z")
    nov = store(tenant, b'{"n": 3}')
    assert not is_partitioned()

    done = partition_inbox(NOW, months_ahead=2)

    assert is_partitioned()
    assert done.rows == 3
    months = ["2026_09", "2026_10", "2026_11", "2026_12", "2027_01"]
    assert done.partitions == [f"crm_inbox_delivery_{m}" for m in months]
    assert partitions() == done.partitions
    assert partition_of(sep) == "crm_inbox_delivery_2026_09"
    assert partition_of(octo) == "crm_inbox_delivery_2026_10"
    assert Delivery.objects.get(pk=nov).body == b'{"n": 3}'
    # New deliveries continue the ids, and the old ones are still duplicates.
    assert store(tenant, b'{"n": 4}') > nov
    again = accept(tenant, event="ORDER_UPDATED", body=b'{"n": 1}', headers={})
    assert (again.duplicate, again.delivery_id) == (True, sep)
    assert Delivery.objects.count() == 4


def test_a_replay_months_later_is_still_a_duplicate(tenant):
    store(tenant, b'{"order": "old"}', "2026-09-02T00:00:00Z")  # from before the conversion
    partition_inbox(NOW, months_ahead=1)
    old = accept(tenant, event="ORDER_UPDATED", body=b'{"order": "old"}', headers={})
    assert old.duplicate is True
    first = store(tenant, b'{"order": "A"}')
    # The first copy is now in September's partition: no unique index spans partitions.
    Delivery.objects.filter(pk=first).update(received_at="2026-09-01T00:00:00Z")
    assert partition_of(first) == "crm_inbox_delivery_2026_09"

    again = accept(tenant, event="ORDER_UPDATED", body=b'{"order": "A"}', headers={})
    other_event = accept(tenant, event="ORDER_CREATED", body=b'{"order": "A"}', headers={})
    new = accept_many(
        tenant, [("ORDER_UPDATED", b'{"order": "A"}'), ("ORDER_UPDATED", b'{"order": "B"}'),
                 ("ORDER_UPDATED", b'{"order": "B"}')]
    )  # fmt: skip

    assert (again.duplicate, again.delivery_id) == (True, first)
    assert other_event.duplicate is False  # the key is (tenant, event, body), as before
    assert new == 1  # only B, once
    assert Delivery.objects.count() == 4


def test_deleting_a_delivery_frees_its_key(tenant):
    partition_inbox(NOW, months_ahead=1)
    first = store(tenant, b'{"order": "A"}')
    Delivery.objects.filter(pk=first).delete()
    again = accept(tenant, event="ORDER_UPDATED", body=b'{"order": "A"}', headers={})
    assert again.duplicate is False
    assert Delivery.objects.count() == 1


def apply_recordings(tenant) -> list[tuple]:
    """Every recorded Saleor delivery, twice, applied; the customers' figures that result."""
    for item in recordings.deliveries() * 2:
        accept(tenant, event=item.event, body=item.body, headers=item.headers)
    while drain().claimed:
        pass
    assert Delivery.objects.count() == len({(d.event, d.body) for d in recordings.deliveries()})
    assert not Delivery.objects.filter(state="pending").exists()
    return list(
        Profile.objects.order_by("email").values_list(
            "email", "orders_count", "spent_gross_minor", "refunded_minor"
        )
    )


def test_deliveries_in_partitions_are_applied_as_before(tenant, rates):
    with transaction.atomic():
        unpartitioned = apply_recordings(tenant)
        transaction.set_rollback(True)
    partition_inbox(NOW, months_ahead=1)
    assert apply_recordings(tenant) == unpartitioned
    assert len(unpartitioned) >= 3 and any(row[1] for row in unpartitioned)


def test_months_ahead_are_created_once(tenant):
    assert ensure_partitions(NOW, 3) == []  # not partitioned: nothing to do
    partition_inbox(NOW, months_ahead=0)
    assert partitions() == ["crm_inbox_delivery_2026_11"]

    created = ensure_partitions(datetime(2027, 1, 15, tzinfo=UTC), 2)

    assert created == [f"crm_inbox_delivery_{m}" for m in ("2027_01", "2027_02", "2027_03")]
    assert ensure_partitions(datetime(2027, 1, 15, tzinfo=UTC), 2) == []
    # December was never created: a delivery for it would be refused, not misfiled.
    with pytest.raises(DatabaseError, match="no partition"), transaction.atomic():
        Delivery.objects.filter(tenant=tenant).update(received_at="2026-12-24T00:00:00Z")
        store(tenant, b'{"n": 1}', "2026-12-24T00:00:00Z")


def test_converting_twice_is_refused(tenant):
    partition_inbox(NOW, months_ahead=0)
    with pytest.raises(ValueError, match="already partitioned"):
        partition_inbox(NOW, months_ahead=0)

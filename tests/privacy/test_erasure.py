"""Erasure on request: afterwards no CRM table, cache entry or queued task names the person."""

from __future__ import annotations

import pytest
import redis
from django.db.models import Count, Sum

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.models import Delivery, OrderRecord, Profile
from tests import recordings
from tests.privacy.conftest import ANNA, ANNA_EMAIL, YUKI, staff_token, tables_mentioning

pytestmark = pytest.mark.django_db

REDIS = "redis://127.0.0.1:6379/12"
PREFIX = "crm-privacy-erasure-test"

ERASE = """
mutation($email: String, $reason: String!) {
  crmCustomerErase(email: $email, reason: $reason) { erased erasedAt }
}"""


@pytest.fixture
def redis_cache(settings):
    """The app's cache in Redis, as in production, under a prefix of this test alone."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": PREFIX,
        }
    }
    client = redis.Redis.from_url(REDIS)
    yield client
    for key in client.scan_iter(f"{PREFIX}*"):
        client.delete(key)


def redis_mentions(client: redis.Redis, needle: str) -> list[bytes]:
    found = []
    for key in client.scan_iter(f"{PREFIX}*"):
        value = client.get(key) if client.type(key) == b"string" else b""
        if needle.encode() in key.lower() or needle.encode() in (value or b"").lower():
            found.append(key)
    return found


def test_after_erasure_no_table_cache_entry_or_inbox_body_names_the_customer(
    redis_cache, tenant, rates, issuer, gql
):
    from saleor_crm_plugin.tracking.services import TrackInput, record_events
    from tests.privacy.conftest import NOW

    for item in recordings.deliveries():
        accept(tenant, event=item.event, body=item.body, headers=dict(item.headers))
    drain()
    record_events(  # rate-limit counters land in the cache
        tenant, "visitor-anna", [TrackInput("anna-view-0009", "product_viewed", NOW)],
        consent=True, ip="203.0.113.7", email=ANNA_EMAIL,
    )  # fmt: skip
    assert redis_cache.keys(f"{PREFIX}*")
    before = OrderRecord.objects.aggregate(n=Count("id"), gross=Sum("total_gross_base_minor"))
    assert tables_mentioning(ANNA_EMAIL)  # the scan finds her before

    result = gql(ERASE, {"email": ANNA_EMAIL.upper(), "reason": "ticket 4711"}, staff_token(issuer))

    assert result["data"]["crmCustomerErase"]["erased"] is True, result
    assert tables_mentioning(ANNA_EMAIL) == {}
    assert redis_mentions(redis_cache, ANNA_EMAIL) == []
    # The store's figures stand: every order is kept, anonymous.
    after = OrderRecord.objects.aggregate(n=Count("id"), gross=Sum("total_gross_base_minor"))
    assert after == before
    assert not Profile.objects.filter(user_id=ANNA).exists()
    assert Profile.objects.filter(user_id=YUKI).exists()


def test_everything_about_the_customer_goes_and_only_anonymous_figures_stay(anna, issuer, gql):
    from saleor_crm_plugin.loyalty.models import Referral
    from saleor_crm_plugin.models import DeletedCustomer, StageChange, TrackedEvent

    assert StageChange.objects.filter(profile=anna).exists()
    anna_orders = list(OrderRecord.objects.filter(profile=anna).values_list("pk", flat=True))
    assert anna_orders
    kept_bodies = Delivery.objects.exclude(body=b"").count()

    result = gql(ERASE, {"email": ANNA_EMAIL, "reason": "ticket 4711"}, staff_token(issuer))

    assert result["data"]["crmCustomerErase"]["erased"] is True, result
    assert tables_mentioning(ANNA_EMAIL, "visitor-anna") == {}
    orders = OrderRecord.objects.filter(pk__in=anna_orders)
    assert orders.count() == len(anna_orders)
    assert set(orders.values_list("profile_id", "user_id", "email", "address_key")) == {
        (None, None, "", "")
    }
    assert not TrackedEvent.objects.filter(visitor_id="visitor-anna").exists()
    assert not StageChange.objects.filter(profile_id=anna.pk).exists()
    referral = Referral.objects.get()  # Yuki's referral still counts, without Anna's address
    assert (referral.status, referral.ip, referral.friend_email.startswith("erased:")) == (
        "claimed", None, True
    )  # fmt: skip
    tombstone = DeletedCustomer.objects.get(user_id=ANNA)
    assert (tombstone.reason, tombstone.actor) == ("ticket 4711", "VXNlcjoyMQ==")
    # Only deliveries naming Anna were emptied; their hashes stay.
    emptied = Delivery.objects.filter(body=b"")
    assert 0 < emptied.count() < kept_bodies
    assert all(d.body_hash for d in emptied)


def test_a_replay_after_erasure_brings_nothing_back(anna, issuer, gql):
    gql(ERASE, {"email": ANNA_EMAIL, "reason": "ticket 4711"}, staff_token(issuer))
    for item in recordings.deliveries():
        accepted = accept(anna.tenant, event=item.event, body=item.body, headers={})
        assert accepted.duplicate
    drain()
    assert tables_mentioning(ANNA_EMAIL) == {}
    assert not Profile.objects.filter(user_id=ANNA).exists()


def test_an_erased_account_still_shopping_in_saleor_is_kept_anonymous(anna, issuer, gql):
    """Erased in the CRM, the account lives on in Saleor: its new events rebuild nothing and
    leave no address behind, but its orders still count for the store."""
    gql(ERASE, {"email": ANNA_EMAIL, "reason": "ticket 4711"}, staff_token(issuer))
    orders = OrderRecord.objects.count()
    late = [d for d in recordings.deliveries() if d.event in ("customer_updated", "order_updated")]
    for item in late:  # newer versions of what Saleor sent about her
        body = item.body.replace(b'"issuedAt": "2026-', b'"issuedAt": "2027-')
        assert body != item.body
        assert not accept(anna.tenant, event=item.event, body=body, headers={}).duplicate
    drain()
    assert tables_mentioning(ANNA_EMAIL) == {}
    assert not Profile.objects.filter(user_id=ANNA).exists()
    assert OrderRecord.objects.count() == orders


def test_erasure_needs_a_reason_without_an_address_and_changes_nothing_when_refused(
    anna, issuer, gql
):
    for reason in ("", f"asked by {ANNA_EMAIL}"):
        result = gql(ERASE, {"email": ANNA_EMAIL, "reason": reason}, staff_token(issuer))
        assert result["errors"][0]["extensions"]["exception"]["field"] == "reason"
    assert Profile.objects.filter(pk=anna.pk).exists()
    unknown = gql(ERASE, {"email": "nobody@example.org", "reason": "x"}, staff_token(issuer))
    assert unknown["errors"][0]["extensions"]["exception"]["code"] == "not_found"


def test_customers_saleor_deleted_are_named_nowhere_once_the_deletion_is_applied(store):
    """The recording deletes Piotr and Jan after they shopped."""
    assert tables_mentioning("piotr.nowak@example.pl", "jan.kowalski@example.pl") == {}
    assert Delivery.objects.filter(body=b"", state="processed").exists()


def test_a_guest_is_erased_by_email_and_their_late_guest_orders_attach_to_no_one(
    store, issuer, gql
):
    from saleor_crm_plugin.models import DeletedCustomer

    guest = Profile.objects.get(email="fahad@example.kw")
    assert guest.user_id is None and guest.orders.exists()
    result = gql(ERASE, {"email": "Fahad@Example.kw", "reason": "by letter"}, staff_token(issuer))
    assert result["data"]["crmCustomerErase"]["erased"] is True, result
    assert tables_mentioning("fahad@example.kw") == {}
    tombstone = DeletedCustomer.objects.get(reason="by letter")
    assert tombstone.user_id.startswith("guest:") and len(tombstone.email_hash) == 64
    # A retried order of theirs from before the erasure, newer version: attached to no one.
    late = next(d for d in recordings.deliveries() if b"fahad@example.kw" in d.body)
    accept(store, event=late.event, body=late.body + b" ", headers={})
    drain()
    assert not Profile.objects.filter(email="fahad@example.kw").exists()
    assert tables_mentioning("fahad@example.kw") == {}

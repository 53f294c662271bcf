"""crmTrack: storefront behaviour, consent first, deduplicated, rate-limited, joined at sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_crm_plugin.models import Profile, TrackedEvent
from tests import recordings
from tests.graphql.conftest import ANNA

pytestmark = pytest.mark.django_db

TRACK = """
mutation($visitor: String!, $events: [CRMTrackEventInput!]!, $consent: Boolean!,
         $email: String, $api: String) {
  crmTrack(visitorId: $visitor, events: $events, consent: $consent, email: $email,
           saleorApiUrl: $api) { accepted duplicates stored } }
"""
VISITOR = "visitor-7f3a9c2e"


def events(*ids: str, kind: str = "PRODUCT_VIEWED") -> list[dict]:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return [
        {
            "clientEventId": f"event-{i:0>6}",
            "kind": kind,
            "occurredAt": at,
            "subjectId": "UHJvZHVjdDoxNTI=",
            "channel": "channel-eur",
        }
        for i in ids
    ]


def track(gql, batch, *, consent=True, token=None, email=None, visitor=VISITOR):
    return gql(
        TRACK,
        {
            "visitor": visitor,
            "events": batch,
            "consent": consent,
            "email": email,
            "api": recordings.API_URL,
        },
        token,
    )


def test_anonymous_events_are_stored_once_and_joined_when_the_visitor_signs_in(gql, store, issuer):
    first = track(gql, events("1", "2", "3"))["data"]["crmTrack"]
    again = track(gql, events("2", "3", "4"))["data"]["crmTrack"]  # a retried batch overlaps
    assert first == {"accepted": 3, "duplicates": 0, "stored": True}
    assert again == {"accepted": 1, "duplicates": 2, "stored": True}
    assert TrackedEvent.objects.filter(profile=None).count() == 4
    signed_in = track(gql, events("5"), token=issuer.token(user_id=ANNA))["data"]["crmTrack"]
    assert signed_in["accepted"] == 1
    anna = Profile.objects.get(user_id=ANNA)
    assert TrackedEvent.objects.filter(profile=anna).count() == 5
    assert anna.timeline.filter(kind="crm.behaviour.product_viewed").count() == 5


def test_an_email_given_at_checkout_joins_the_history(gql, store):
    track(gql, events("1", kind="SEARCHED"))
    track(gql, events("2", kind="ADDED_TO_CART"), email="FAHAD@example.kw")
    fahad = Profile.objects.get(email="fahad@example.kw")
    assert sorted(TrackedEvent.objects.filter(profile=fahad).values_list("kind", flat=True)) == [
        "added_to_cart",
        "searched",
    ]


def test_declined_consent_stores_nothing(gql, store, issuer):
    result = track(gql, events("1", "2"), consent=False, token=issuer.token(user_id=ANNA))
    assert result["data"]["crmTrack"] == {"accepted": 0, "duplicates": 0, "stored": False}
    assert TrackedEvent.objects.count() == 0


def test_too_many_events_from_one_visitor_get_a_clear_error(gql, store):
    for n in range(3):
        batch = events(*[f"{n}-{i}" for i in range(40)])
        assert track(gql, batch)["data"]["crmTrack"]["accepted"] == 40
    refused = track(gql, events("late-1"))
    assert refused["errors"][0]["extensions"]["exception"]["code"] == "RATE_LIMITED"
    assert TrackedEvent.objects.count() == 120
    assert (
        track(gql, events("other-1"), visitor="visitor-other-01")["data"]["crmTrack"]["accepted"]
        == 1
    )


@pytest.mark.parametrize(
    ("batch", "words"),
    [
        (events(*[str(i) for i in range(51)]), "at most 50"),
        ([{**events("1")[0], "occurredAt": "2020-01-01T00:00:00+00:00"}], "last 7 days"),
        ([{**events("1")[0], "clientEventId": "x"}], "clientEventId"),
    ],
)
def test_bad_batches_are_refused_and_store_nothing(gql, store, batch, words):
    result = track(gql, batch)
    assert words in result["errors"][0]["message"]
    assert TrackedEvent.objects.count() == 0


def test_erasing_a_customer_erases_their_tracked_behaviour(gql, store, issuer):
    from saleor_crm_plugin.inbox.services import accept, drain

    track(gql, events("1", "2"), token=issuer.token(user_id="VXNlcjo0OA=="))  # yuki
    assert TrackedEvent.objects.count() == 2
    deleted = recordings.delivery(120)  # a staff deletion payload, retargeted at yuki
    body = deleted.body.replace(b"VXNlcjo1MQ==", b"VXNlcjo0OA==").replace(
        b"piotr.nowak@example.pl", b"yuki.tanaka@example.jp"
    )
    accept(store, event="customer_deleted", body=body, headers={})
    drain()
    assert not Profile.objects.filter(user_id="VXNlcjo0OA==").exists()
    assert TrackedEvent.objects.count() == 0

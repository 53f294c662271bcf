"""Stage history on the hand-built store (store.py): every change of a customer's lifecycle
stage is stored once, whether the full recompute or the per-event refresh made it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.models import CustomerScores, StageChange, StageHistoryStart
from saleor_crm_plugin.segments.scores import recompute, refresh_scores
from saleor_crm_plugin.segments.services import recompute_store
from tests import recordings

from .store import NOW, build_store, place, profile_id

pytestmark = pytest.mark.django_db(transaction=True)


def history() -> list[tuple[str, str, str, object]]:
    return list(
        StageChange.objects.order_by("changed_at", "profile__email", "id").values_list(
            "profile__email", "from_stage", "to_stage", "changed_at"
        )
    )


def test_the_recompute_records_each_stage_change_once(tenant):
    build_store(tenant)
    recompute(tenant, NOW)
    first = [
        ("ann@example.de", "", "active", NOW),
        ("bob@example.at", "", "active", NOW),
        ("cem@example.ch", "", "new", NOW),
        ("dan@example.fr", "", "lost", NOW),
        ("eve@example.de", "", "dormant", NOW),
    ]  # fay has only cancelled orders: no stage, no change
    assert history() == first
    recompute(tenant, NOW)  # same orders, same moment: nothing changed
    recompute(tenant, NOW + timedelta(days=1))  # a day on: still nobody moves
    assert history() == first
    # Two weeks on ann (at risk after 20 days) and bob (after 60) move, nobody else.
    later = NOW + timedelta(days=14)
    recompute(tenant, later)
    recompute(tenant, later)
    assert history() == [
        *first,
        ("ann@example.de", "active", "at_risk", later),
        ("bob@example.at", "active", "at_risk", later),
    ]


def test_an_order_records_the_change_in_the_per_event_refresh(tenant):
    build_store(tenant)
    recompute(tenant, NOW)
    dan = profile_id("dan@example.fr")
    soon = NOW + timedelta(hours=1)
    place(tenant, "dan-2", "dan@example.fr", 1000, NOW, country="FR")
    assert refresh_scores(tenant, [dan], soon) == 1
    assert refresh_scores(tenant, [dan], soon + timedelta(minutes=5)) == 0  # nothing new
    assert list(
        StageChange.objects.filter(profile_id=dan)
        .order_by("changed_at")
        .values_list("from_stage", "to_stage", "changed_at")
    ) == [("", "lost", NOW), ("lost", "active", soon)]
    assert CustomerScores.objects.get(profile_id=dan).stage == "active"


def test_replayed_deliveries_do_not_record_a_change_twice(tenant, rates):
    for item in recordings.deliveries():
        accept(tenant, event=item.event, body=item.body, headers={})
    drain()
    scored = dict(CustomerScores.objects.exclude(stage="").values_list("profile_id", "stage"))
    assert scored
    changes = list(StageChange.objects.values_list("profile_id", "from_stage", "to_stage"))
    # Each customer's first stage once, and nothing else: their later orders kept them there
    # or moved them from new to active, each change once.
    firsts = {p: to for p, frm, to in changes if frm == ""}
    assert set(firsts) == set(scored)
    assert len(changes) == len(set(changes))
    for item in recordings.deliveries():  # Saleor delivers everything again
        accept(tenant, event=item.event, body=item.body, headers={})
    drain()
    assert sorted(StageChange.objects.values_list("profile_id", "from_stage", "to_stage")) == (
        sorted(changes)
    )


def test_the_first_full_recompute_starts_the_complete_history(tenant):
    build_store(tenant)
    recompute(tenant, NOW)  # the scores alone do not mark it: no store-wide pass recorded yet
    assert not StageHistoryStart.objects.filter(tenant=tenant).exists()
    recompute_store(tenant, NOW + timedelta(days=1))
    recompute_store(tenant, NOW + timedelta(days=2))
    assert StageHistoryStart.objects.get(tenant=tenant).since == NOW + timedelta(days=1)


def test_a_guests_stage_history_joins_her_account_and_goes_with_it(tenant):
    from saleor_crm_plugin.models import LifecycleSettings, Profile
    from saleor_crm_plugin.profiles.identity import delete_customers, merge_guests_into_accounts

    LifecycleSettings.objects.create(
        tenant=tenant, mode="days", at_risk_after=30, dormant_after=90, lost_after=365
    )
    mia = "mia@example.de"
    place(tenant, "mia-0", mia, 100, NOW - timedelta(days=100))  # as a guest
    guest = Profile.objects.get(email=mia)
    account = Profile.objects.create(tenant=tenant, user_id="VXNlcjoxMQ==", email=mia)
    recompute(tenant, NOW)
    # The account went through the same change in the same scoring (it had bought as well).
    StageChange.objects.create(
        tenant=tenant, profile=account, from_stage="", to_stage="dormant", changed_at=NOW
    )
    later = NOW + timedelta(days=300)
    refresh_scores(tenant, [guest.pk], later)  # only the guest's profile moves on
    assert list(
        StageChange.objects.order_by("changed_at", "profile_id").values_list(
            "profile_id", "from_stage", "to_stage", "changed_at"
        )
    ) == [
        (guest.pk, "", "dormant", NOW),
        (account.pk, "", "dormant", NOW),
        (guest.pk, "dormant", "lost", later),
    ]

    merge_guests_into_accounts(tenant.pk, [mia])
    assert list(
        StageChange.objects.order_by("changed_at").values_list(
            "profile_id", "from_stage", "to_stage", "changed_at"
        )
    ) == [(account.pk, "", "dormant", NOW), (account.pk, "dormant", "lost", later)]

    delete_customers(tenant.pk, [("VXNlcjoxMQ==", mia, later)])
    assert not StageChange.objects.exists()

"""Custom segments on the hand-built store (store.py), expected members worked out by hand.

After the recompute at NOW (see test_scores.py): ann champions, bob loyal, cem promising,
dan almost_lost, eve at_risk (refunds), fay prospects (cancellations).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from saleor_crm_plugin.models import Profile, Segment, SegmentMember, TrackedEvent
from saleor_crm_plugin.segments.queries import export_csv, history, member_ids, preview
from saleor_crm_plugin.segments.rules import RuleError
from saleor_crm_plugin.segments.services import (
    SegmentError,
    delete_segment,
    recompute_store,
    save_segment,
)

from .store import NOW, build_store, place, profile_id

pytestmark = pytest.mark.django_db(transaction=True)

DACH_500_IN_90 = {
    "all": [
        {"field": "spent_in_period", "days": 90, "op": "gt", "value": 500},
        {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]},
    ]
}


def emails(ids: list[int]) -> set[str]:
    return set(Profile.objects.filter(pk__in=ids).values_list("email", flat=True))


@pytest.fixture
def store(tenant):
    build_store(tenant)
    recompute_store(tenant, NOW)
    return tenant


def test_spent_over_500_in_90_days_in_dach(store):
    # ann 900 in November (DE); bob 400 since Sep 1 (AT); cem 50 (CH); eve's June order is
    # older than 90 days; dan is in FR.
    found = preview(store, DACH_500_IN_90, NOW, 10)
    assert (found.count, emails(found.first)) == (1, {"ann@example.de"})
    lower = {"all": [{**DACH_500_IN_90["all"][0], "value": 300}, DACH_500_IN_90["all"][1]]}
    found = preview(store, lower, NOW, 10)
    assert found.count == 2
    assert found.first == [profile_id("ann@example.de"), profile_id("bob@example.at")]  # by spend


def test_two_periods_in_an_any_group_and_a_count_beyond_the_first(store):
    # ann: 3 orders since Oct 29; cem 50 and fay 0 (cancelled orders are no purchases) spent
    # under 150 in a year; bob (400), dan (200) and eve (500 net) match neither.
    rules = {
        "any": [
            {"field": "orders_in_period", "days": 30, "op": "gte", "value": 2},
            {"field": "spent_in_period", "days": 365, "op": "lt", "value": 150},
        ]
    }
    found = preview(store, rules, NOW, 10)
    assert emails(found.first) == {"ann@example.de", "cem@example.ch", "fay@example.de"}
    found = preview(store, rules, NOW, 1)
    assert (found.count, found.first) == (3, [profile_id("ann@example.de")])  # largest spend


def test_period_figures_of_customers_without_a_purchase_in_the_period_count_as_zero(store):
    # In the last 30 days (since Oct 29): ann 3 orders, cem 1; bob (Oct 1), dan, eve none, and
    # fay's orders are cancelled (no purchases). Nobody is left out for lacking a row.
    def matching(op, value):
        rules = {"all": [{"field": "orders_in_period", "days": 30, "op": op, "value": value}]}
        return emails(preview(store, rules, NOW, 10).first)

    assert matching("eq", 0) == {"bob@example.at", "dan@example.fr", "eve@example.de",
                                 "fay@example.de"}  # fmt: skip
    assert matching("ne", 0) == {"ann@example.de", "cem@example.ch"}
    assert matching("lte", 1) == {"bob@example.at", "cem@example.ch", "dan@example.fr",
                                  "eve@example.de", "fay@example.de"}  # fmt: skip
    assert matching("gte", 1) == {"ann@example.de", "cem@example.ch"}
    assert matching("gt", -1) == {"ann@example.de", "bob@example.at", "cem@example.ch",
                                  "dan@example.fr", "eve@example.de", "fay@example.de"}  # fmt: skip


def test_conditions_on_two_periods_read_each_period_alone(store):
    # No purchase in 30 days and over 300 in a year: bob (400 by Oct 1), eve (500 net, June);
    # dan spent 200 in the year, ann and cem bought in the last 30 days, fay never.
    rules = {
        "all": [
            {"field": "orders_in_period", "days": 30, "op": "eq", "value": 0},
            {"field": "spent_in_period", "days": 365, "op": "gt", "value": 300},
        ]
    }
    assert emails(preview(store, rules, NOW, 10).first) == {"bob@example.at", "eve@example.de"}
    # Under 100 in 30 days (nothing counts as 0) and at least two orders in a year: bob, dan
    # (none in 30 days), not cem (one order), not ann (900 in 30 days).
    rules = {
        "all": [
            {"field": "spent_in_period", "days": 30, "op": "lt", "value": 100},
            {"field": "orders_in_period", "days": 365, "op": "gte", "value": 2},
        ]
    }
    assert emails(preview(store, rules, NOW, 10).first) == {"bob@example.at", "dan@example.fr"}


def test_period_rules_beside_profile_conditions(store):
    # German customers who spent under 150 in 90 days (since Aug 30): eve's June order is
    # older, fay's are cancelled; ann spent 900. Everyone else is not in DE.
    rules = {
        "all": [
            {"field": "spent_in_period", "days": 90, "op": "lt", "value": 150},
            {"field": "country", "op": "in", "value": ["DE"]},
        ]
    }
    found = preview(store, rules, NOW, 10)
    assert (found.count, emails(found.first)) == (2, {"eve@example.de", "fay@example.de"})
    # DE or AT, and over 300 in a year or over 2 orders in 30 days: ann (900, 3 orders), bob
    # (400), eve (1000 less 500 refunded, June 1); fay none, cem and dan elsewhere.
    rules = {
        "all": [
            {"field": "country", "op": "in", "value": ["DE", "AT"]},
            {"any": [
                {"field": "spent_in_period", "days": 365, "op": "gt", "value": 300},
                {"field": "orders_in_period", "days": 30, "op": "gt", "value": 2},
            ]},
        ]
    }  # fmt: skip
    found = preview(store, rules, NOW, 10)
    assert found.count == 3
    by_spend = ["ann@example.de", "eve@example.de", "bob@example.at"]  # 900, 500, 400
    assert found.first == [profile_id(e) for e in by_spend]
    # A saved segment's members come from the same rules.
    segment = save_segment(store, name="DACH buyers", rules=rules, now=NOW)
    assert emails(member_ids(segment)) == {"ann@example.de", "bob@example.at", "eve@example.de"}


def test_any_group_of_rfm_groups_and_risk_flags(store):
    rules = {
        "any": [
            {"field": "rfm_group", "op": "in", "value": ["at_risk", "almost_lost"]},
            {"field": "risk_flags", "op": "contains_any", "value": ["cancellations"]},
        ]
    }
    found = preview(store, rules, NOW, 10)
    assert emails(found.first) == {"eve@example.de", "dan@example.fr", "fay@example.de"}


def test_nested_groups_with_stage_and_scores(store):
    rules = {
        "all": [
            {"field": "monetary_score", "op": "gte", "value": 3},
            {"any": [
                {"field": "stage", "op": "eq", "value": "dormant"},
                {"field": "country", "op": "eq", "value": "at"},
            ]},
        ]
    }  # fmt: skip
    assert emails(preview(store, rules, NOW, 10).first) == {"eve@example.de", "bob@example.at"}


def test_tracked_behaviour_in_a_period(store):
    cem, bob = profile_id("cem@example.ch"), profile_id("bob@example.at")
    for i, (who, days_ago) in enumerate(((cem, 2), (cem, 5), (bob, 40))):
        TrackedEvent.objects.create(
            tenant=store, visitor_id=f"v{who}", client_event_id=f"e{i}", profile_id=who,
            kind="product_viewed", subject_id="stroller",
            occurred_at=NOW - timedelta(days=days_ago),
        )  # fmt: skip
    viewed = {"field": "tracked_events", "kind": "product_viewed", "subject": "stroller",
              "days": 30, "op": "gte", "value": 2}  # fmt: skip
    assert emails(preview(store, {"all": [viewed]}, NOW, 10).first) == {"cem@example.ch"}
    once = {**viewed, "days": 60, "value": 1}
    assert emails(preview(store, {"all": [once]}, NOW, 10).first) == {
        "cem@example.ch", "bob@example.at",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"all": [{"field": "shoe_size", "op": "eq", "value": 42}]}, "all[0]: Unknown field"),
        ({"all": [{"field": "country", "op": "gt", "value": "DE"}]}, "takes the operators eq"),
        ({"all": [{"field": "rfm_group", "op": "in", "value": ["vip"]}]}, "'vip' is not one of"),
        ({"all": [{"field": "spent_in_period", "op": "gt", "value": 5}]}, "all[0].days: Give"),
        ({"all": [{"field": "spent", "op": "gt", "value": "lots"}]}, "'lots' is not a number"),
        ({"all": []}, "at least one condition"),
        ({"some": [{"field": "country"}]}, 'Give a group: {"all"'),
        (
            {"all": [{"field": "last_order_at", "op": "before", "value": "31/01/2026"}]},
            "2026-01-31",
        ),
    ],
)
def test_rules_that_do_not_check_out_are_refused_with_a_reason(store, rules, message):
    with pytest.raises(RuleError, match=message.replace("[", r"\[").replace("(", r"\(")):
        save_segment(store, name="Broken", rules=rules, now=NOW)
    assert Segment.objects.count() == 0


def test_values_never_become_sql(store):
    hostile = "DE'); DROP TABLE crm_profile; --"
    rules = {"all": [{"field": "email", "op": "in", "value": [hostile, "ann@example.de"]}]}
    assert emails(preview(store, rules, NOW, 10).first) == {"ann@example.de"}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM crm_profile")
        assert cur.fetchone()[0] == 6


def test_members_join_and_leave_with_history(store):
    segment = save_segment(
        store, name="Three orders", rules={"all": [
            {"field": "orders_count", "op": "gte", "value": 3}]}, now=NOW,
    )  # fmt: skip
    assert emails(member_ids(segment)) == {"ann@example.de"}
    assert segment.members_count == 1
    later = NOW + timedelta(days=1)
    place(store, "bob-2", "bob@example.at", 20, later - timedelta(hours=1), country="AT")
    recompute_store(store, later)
    assert emails(member_ids(segment)) == {"ann@example.de", "bob@example.at"}
    # Raising the bar: both leave, their stays are kept.
    even_later = later + timedelta(days=1)
    save_segment(
        store, name="Four orders", segment_id=segment.pk, now=even_later,
        rules={"all": [{"field": "orders_count", "op": "gte", "value": 4}]},
    )  # fmt: skip
    assert member_ids(segment) == []
    stays = {(s.email, s.joined_at, s.left_at) for s in history(segment)}
    assert stays == {
        ("ann@example.de", NOW, even_later),
        ("bob@example.at", later, even_later),
    }
    # Back to three: a second stay each; refreshing again changes nothing.
    save_segment(
        store, name="Three orders", segment_id=segment.pk, now=even_later + timedelta(days=1),
        rules={"all": [{"field": "orders_count", "op": "gte", "value": 3}]},
    )  # fmt: skip
    recompute_store(store, even_later + timedelta(days=2))
    assert SegmentMember.objects.filter(segment=segment).count() == 4
    assert SegmentMember.objects.filter(segment=segment, left_at__isnull=True).count() == 2


def test_names_are_unique_per_store_and_deleting_takes_the_history(store):
    rules = {"all": [{"field": "country", "op": "eq", "value": "DE"}]}
    segment = save_segment(store, name="Germany", rules=rules, now=NOW)
    with pytest.raises(SegmentError, match="exists already"):
        save_segment(store, name="Germany", rules=rules, now=NOW)
    assert Segment.objects.count() == 1
    delete_segment(store, segment.pk)
    assert (Segment.objects.count(), SegmentMember.objects.count()) == (0, 0)
    with pytest.raises(SegmentError, match="No such segment"):
        delete_segment(store, segment.pk)


def test_csv_export_lists_current_members_safely(store):
    Profile.objects.filter(email="eve@example.de").update(first_name="=HYPERLINK(1)")
    segment = save_segment(
        store, name="DE", rules={"all": [{"field": "country", "op": "in", "value": ["DE"]}]},
        now=NOW,
    )  # fmt: skip
    lines = export_csv(segment).splitlines()
    assert lines[0] == (
        "email,first_name,last_name,country,language,orders_count,spent,currency,rfm_group,"
        "stage,joined_segment_at"
    )
    assert sorted(lines[1:]) == [
        "ann@example.de,,,DE,de,3,900.00,EUR,champions,active,2026-11-28T12:00:00+00:00",
        "eve@example.de,'=HYPERLINK(1),,DE,de,1,500.00,EUR,at_risk,dormant,"
        "2026-11-28T12:00:00+00:00",
        "fay@example.de,,,DE,de,0,0.00,EUR,prospects,,2026-11-28T12:00:00+00:00",
    ]


def test_last_order_dates_in_rules(store):
    rules = {"all": [{"field": "last_order_at", "op": "more_than_days_ago", "value": 100}]}
    assert emails(preview(store, rules, NOW, 10).first) == {"dan@example.fr", "eve@example.de"}
    rules = {"all": [{"field": "first_order_at", "op": "after", "value": "2026-09-01"}]}
    assert emails(preview(store, rules, NOW, 10).first) == {
        "ann@example.de", "bob@example.at", "cem@example.ch",
    }  # fmt: skip

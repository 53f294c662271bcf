"""Everything the CRM holds on one person, as a versioned JSON document (right of access and
portability).

One function per capability builds its section; ``@section`` registers it with the tables it
reads. A table that references ``crm_profile`` and is in no section fails
``tests/privacy/test_export.py``, so a new capability cannot forget its customers' right of
access. Bump ``VERSION`` when a field is renamed or removed (adding one is compatible).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone

from ..profiles.models import Profile

VERSION = 1
FORMAT = "saleor-crm-customer-export"

Builder = Callable[[Profile], Any]
SECTIONS: dict[str, Builder] = {}
# Every table holding data about a person, and the section that exports it.
COVERED_TABLES: dict[str, str] = {}


def section(name: str, *tables: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        SECTIONS[name] = builder
        for table in tables:
            COVERED_TABLES[table] = name
        return builder

    return register


def _rows(rows: QuerySet[Any], fields: Iterable[str]) -> list[dict[str, Any]]:
    return list(rows.values(*fields))


def _one(rows: QuerySet[Any], fields: Iterable[str]) -> dict[str, Any] | None:
    found = _rows(rows, fields)
    return found[0] if found else None


@section("profile", "crm_profile")
def _profile(profile: Profile) -> dict[str, Any]:
    fields = [
        f.name
        for f in Profile._meta.concrete_fields
        if f.name not in ("tenant", "customer_issued_at", "customer_updated_at")
    ]
    return {name: getattr(profile, name) for name in fields}


@section("orders", "crm_order")
def _orders(profile: Profile) -> list[dict[str, Any]]:
    from ..profiles.models import OrderRecord

    return _rows(
        OrderRecord.objects.filter(profile=profile).order_by("created_at", "id"),
        [
            "order_id",
            "number",
            "email",
            "channel",
            "currency",
            "status",
            "language",
            "country",
            "created_at",
            "updated_at",
            "total_gross_minor",
            "total_net_minor",
            "charged_minor",
            "refunded_minor",
            "fx_rate",
            "base_currency",
            "total_gross_base_minor",
            "payment_methods",
            "lines",
            "checkout_id",
            "voucher_code",
        ],
    )


@section("checkouts", "crm_checkout")
def _checkouts(profile: Profile) -> list[dict[str, Any]]:
    from ..profiles.models import CheckoutRecord

    return _rows(
        CheckoutRecord.objects.filter(profile=profile).order_by("created_at", "id"),
        [
            "checkout_id",
            "email",
            "channel",
            "currency",
            "language",
            "country",
            "created_at",
            "updated_at",
            "total_gross_minor",
            "lines",
            "paid_at",
            "completed_order_id",
        ],
    )


@section("timeline", "crm_timeline")
def _timeline(profile: Profile) -> list[dict[str, Any]]:
    from ..profiles.models import TimelineEntry

    return _rows(
        TimelineEntry.objects.filter(profile=profile).order_by("occurred_at", "id"),
        ["kind", "occurred_at", "subject_id", "data"],
    )


@section("consents", "crm_consent_entry")
def _consents(profile: Profile) -> list[dict[str, Any]]:
    from .models import ConsentEntry

    return _rows(
        ConsentEntry.objects.filter(profile=profile).order_by("occurred_at", "id"),
        [
            "purpose",
            "channel",
            "action",
            "jurisdiction",
            "source",
            "wording_version",
            "needs_confirmation",
            "occurred_at",
            "actor",
        ],
    )


@section(
    "loyalty",
    "crm_points_entry",
    "crm_tier_status",
    "crm_referral_code",
    "crm_referral",
    "crm_birthday",
)
def _loyalty(profile: Profile) -> dict[str, Any]:
    """Points (feedback bonuses are points entries of kind ``feedback``), tier, referrals."""
    from ..loyalty.models import Birthday, PointsEntry, Referral, ReferralCode, TierStatus

    return {
        "points": _rows(
            PointsEntry.objects.filter(profile=profile).order_by("created_at", "id"),
            [
                "kind",
                "points",
                "source",
                "source_id",
                "created_at",
                "available_at",
                "reason",
                "data",
            ],
        ),
        "tier": _one(
            TierStatus.objects.filter(profile=profile), ["tier", "since", "program_version"]
        ),
        "referral_code": _one(ReferralCode.objects.filter(profile=profile), ["code", "created_at"]),
        # Friends' addresses are theirs, not the advocate's: only status and dates.
        "referrals": _rows(
            Referral.objects.filter(advocate=profile).order_by("created_at", "id"),
            ["status", "reason", "created_at"],
        ),
        "birthday": _one(Birthday.objects.filter(profile=profile), ["month", "day", "set_at"]),
    }


@section("messages", "crm_message")
def _messages(profile: Profile) -> list[dict[str, Any]]:
    from ..messaging.models import Message

    return _rows(
        Message.objects.filter(profile=profile).order_by("created_at", "id"),
        [
            "kind",
            "purpose",
            "channel",
            "store_channel",
            "locale",
            "status",
            "reason",
            "created_at",
            "due_at",
            "sent_at",
            "context",
        ],
    )


@section("behaviour", "crm_tracked_event")
def _behaviour(profile: Profile) -> list[dict[str, Any]]:
    from ..tracking.models import TrackedEvent

    return _rows(
        TrackedEvent.objects.filter(profile=profile).order_by("occurred_at", "id"),
        ["visitor_id", "kind", "subject_id", "query", "channel", "occurred_at"],
    )


@section("segments", "crm_segment_member", "crm_customer_scores", "crm_stage_change")
def _segments(profile: Profile) -> dict[str, Any]:
    from ..segments.models import CustomerScores, SegmentMember, StageChange

    return {
        "scores": _one(
            CustomerScores.objects.filter(profile=profile),
            [
                "recency",
                "frequency",
                "monetary",
                "rfm_group",
                "quadrant",
                "stage",
                "cadence_days",
                "purchases",
                "last_purchase_at",
                "refund_rate",
                "return_rate",
                "cancelled_orders",
                "disputes",
                "disputes_lost",
                "risk_flags",
                "changed_at",
            ],
        ),
        "memberships": _rows(
            SegmentMember.objects.filter(profile=profile).order_by("joined_at", "id"),
            ["segment__name", "joined_at", "left_at"],
        ),
        "stage_history": _rows(
            StageChange.objects.filter(profile=profile).order_by("changed_at", "id"),
            ["from_stage", "to_stage", "changed_at"],
        ),
    }


@section("recovery", "crm_recovery_flow", "crm_recovery_step")
def _recovery(profile: Profile) -> list[dict[str, Any]]:
    from ..recovery.models import RecoveryFlow, RecoveryStep

    flows = _rows(
        RecoveryFlow.objects.filter(profile=profile).order_by("started_at", "id"),
        [
            "id",
            "kind",
            "checkout_id",
            "channel",
            "currency",
            "lines",
            "total_gross_minor",
            "status",
            "stop_reason",
            "started_at",
            "ended_at",
            "recovered_order_id",
            "recovered_minor",
        ],
    )
    steps: dict[int, list[dict[str, Any]]] = {}
    for step in _rows(
        RecoveryStep.objects.filter(flow__profile=profile).order_by("flow_id", "step"),
        ["flow_id", "step", "due_at", "sent_at", "outcome", "reason"],
    ):
        steps.setdefault(step.pop("flow_id"), []).append(step)
    for flow in flows:
        flow["steps"] = steps.get(flow.pop("id"), [])
    return flows


@section("memberships", "crm_membership")
def _memberships(profile: Profile) -> list[dict[str, Any]]:
    from ..payments.models import Membership

    return _rows(
        Membership.objects.filter(profile=profile).order_by("created_at", "id"),
        [
            "subscription_id",
            "customer_id",
            "price_id",
            "tier",
            "status",
            "current_period_end",
            "cancel_at_period_end",
            "ended_at",
            "created_at",
        ],
    )


@section("feedback", "crm_feedback")
def _feedback(profile: Profile) -> list[dict[str, Any]]:
    from ..feedback.models import Feedback

    return _rows(
        Feedback.objects.filter(profile=profile).order_by("created_at", "id"),
        ["order_number", "rating", "comment", "flagged", "source", "created_at", "updated_at"],
    )


@section("campaigns", "crm_campaign_recipient", "crm_campaign_message")
def _campaigns(profile: Profile) -> list[dict[str, Any]]:
    from ..campaigns.models import CampaignMessage, CampaignRecipient

    sent = {
        (m["step__campaign_id"], m["step__position"]): m["message__status"]
        for m in CampaignMessage.objects.filter(profile=profile).values(
            "step__campaign_id", "step__position", "message__status"
        )
    }
    return [
        {
            "campaign": r["campaign__name"],
            "wave": r["wave"],
            "steps": {
                str(pos): status for (cid, pos), status in sent.items() if cid == r["campaign_id"]
            },
        }
        for r in CampaignRecipient.objects.filter(profile=profile)
        .order_by("campaign_id")
        .values("campaign_id", "campaign__name", "wave")
    ]


@section("predictions", "crm_customer_prediction", "crm_category_affinity")
def _predictions(profile: Profile) -> dict[str, Any]:
    from ..predictions.models import CategoryAffinity, CustomerPrediction

    return {
        "prediction": _one(
            CustomerPrediction.objects.filter(profile=profile),
            [
                "method",
                "churn_risk",
                "expected_orders_12m",
                "expected_order_value_minor",
                "value_12m_minor",
                "next_order_at",
                "computed_at",
            ],
        ),
        "category_affinity": _rows(
            CategoryAffinity.objects.filter(profile=profile).order_by("-share"),
            ["category_slug", "orders", "share"],
        ),
    }


@section("service", "crm_note", "crm_tag", "crm_case")
def _service(profile: Profile) -> dict[str, Any]:
    """What staff wrote about the person is theirs to see too (the authors' own details are
    the staff members' data, so only the time is given)."""
    from ..service.models import Note, ServiceCase, Tag

    return {
        "notes": _rows(
            Note.objects.filter(profile=profile).order_by("created_at", "id"),
            ["body", "created_at"],
        ),
        "tags": _rows(Tag.objects.filter(profile=profile).order_by("tag"), ["tag", "added_at"]),
        "cases": _rows(
            ServiceCase.objects.filter(profile=profile).order_by("opened_at", "id"),
            [
                "type",
                "status",
                "subject",
                "description",
                "order_id",
                "opened_at",
                "due_at",
                "resolved_at",
            ],
        ),
    }


def export_customer(profile: Profile, now: datetime | None = None) -> dict[str, Any]:
    """The export document: ``format``, ``version``, ``generated_at`` and one key per section,
    in plain JSON types (times in ISO 8601 UTC, amounts in minor units, decimals as strings)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": now or timezone.now(),
        "store": profile.tenant.saleor_api_url,
    }
    document.update({name: build(profile) for name, build in SECTIONS.items()})
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))

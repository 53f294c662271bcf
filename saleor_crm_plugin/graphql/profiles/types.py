from __future__ import annotations

from typing import Any

import graphene

from ...profiles.models import Profile, TimelineEntry
from ...profiles.queries import TimelinePage, timeline_page
from ..core.context import crm_context
from ..core.errors import InvalidInput
from ..core.limits import MAX_PAGE
from ..core.money import CRMMoney, money
from ..feedback.types import feedback_summary_field, resolve_feedback_summary
from ..loyalty.referrals import CRMReferral, resolve_referral
from ..loyalty.tiers import CRMTier, resolve_tier
from ..loyalty.types import points_field, resolve_points, resolve_rewards, rewards_field
from ..payments.schema import CRMMembership, resolve_membership
from ..predictions.types import (
    next_order_field,
    prediction_field,
    recommendations_field,
    resolve_next_order,
    resolve_prediction,
    resolve_recommendations,
)
from ..privacy.schema import consents_field, resolve_consents
from ..segments.types import (
    lifecycle_stage_field,
    resolve_lifecycle_stage,
    resolve_scores,
    resolve_stage_history,
    scores_field,
    stage_history_field,
)
from ..service.types import (
    CRMCase,
    CRMCustomerCase,
    cases_field,
    notes_field,
    resolve_cases,
    resolve_notes,
    resolve_tags,
    tags_field,
)
from .dataloaders import TimelinePageByProfileIdLoader


class CRMCurrencyTotal(graphene.ObjectType):
    currency = graphene.String(required=True)
    orders = graphene.Int(required=True)
    total = graphene.Field(CRMMoney, required=True, description="Gross order totals.")
    refunded = graphene.Field(CRMMoney, required=True)


class CRMTimelineEvent(graphene.ObjectType):
    kind = graphene.String(required=True, description="e.g. crm.order.placed")
    occurred_at = graphene.DateTime(required=True)
    subject_id = graphene.String(description="Saleor id of the order, checkout or customer.")
    data = graphene.JSONString(description="Small facts about the event (number, amount ...).")

    @staticmethod
    def from_entry(entry: TimelineEntry) -> CRMTimelineEvent:
        return CRMTimelineEvent(
            kind=entry.kind,
            occurred_at=entry.occurred_at,
            subject_id=entry.subject_id,
            data=entry.data,
        )


class CRMTimelineEdge(graphene.ObjectType):
    node = graphene.Field(CRMTimelineEvent, required=True)
    cursor = graphene.String(required=True)


class CRMTimelineConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CRMTimelineEdge), required=True)
    page_info = graphene.Field(
        "saleor_crm_plugin.graphql.profiles.types.CRMPageInfo", required=True
    )


def _connection(page: TimelinePage) -> CRMTimelineConnection:
    return CRMTimelineConnection(
        edges=[
            CRMTimelineEdge(node=CRMTimelineEvent.from_entry(e), cursor=c)
            for e, c in zip(page.entries, page.cursors, strict=True)
        ],
        page_info=CRMPageInfo(
            has_next_page=page.has_next, end_cursor=page.cursors[-1] if page.cursors else None
        ),
    )


class _ProfileFields:
    """Fields a customer may see about themselves; staff see these and more."""

    language = graphene.String(description="BCP 47 tag, e.g. de or pt-br.")
    country = graphene.String(description="ISO 3166 country code.")
    time_zone = graphene.String(description="IANA time zone, e.g. Europe/Berlin.")
    orders_count = graphene.Int(required=True)
    first_order_at = graphene.DateTime()
    last_order_at = graphene.DateTime()


def _base(profile: Profile) -> str:
    return profile.tenant.base_currency


class CRMCustomer(graphene.ObjectType, _ProfileFields):
    id = graphene.ID(required=True, description="The CRM's id of this profile.")
    user_id = graphene.ID(description="Saleor's User id; null for a guest.")
    email = graphene.String(required=True)
    first_name = graphene.String()
    last_name = graphene.String()
    is_guest = graphene.Boolean(required=True)
    cancelled_orders_count = graphene.Int(required=True)
    total_spent = graphene.Field(CRMMoney, required=True, description="Gross, base currency.")
    total_spent_net = graphene.Field(CRMMoney, required=True, description="Net of tax.")
    refunded = graphene.Field(CRMMoney, required=True)
    average_order = graphene.Field(CRMMoney, required=True)
    refund_rate = graphene.Float(required=True, description="Refunded share of spend, 0-1.")
    points = points_field()
    resolve_points = staticmethod(resolve_points)
    tier = graphene.Field(CRMTier, description="The loyalty tier held; null when none.")
    resolve_tier = staticmethod(resolve_tier)
    totals_by_currency = graphene.List(graphene.NonNull(CRMCurrencyTotal), required=True)
    # Staff see what the customer agreed to before they reach out (the widget's consent list).
    consents = consents_field()
    resolve_consents = staticmethod(resolve_consents)
    channels = graphene.List(graphene.NonNull(graphene.String), required=True)
    payment_methods = graphene.List(graphene.NonNull(graphene.String), required=True)
    categories = graphene.List(graphene.NonNull(graphene.String), required=True)
    products = graphene.List(graphene.NonNull(graphene.String), required=True)
    scores = scores_field()
    resolve_scores = staticmethod(resolve_scores)
    stage_history = stage_history_field()
    resolve_stage_history = staticmethod(resolve_stage_history)
    feedback = feedback_summary_field()
    resolve_feedback = staticmethod(resolve_feedback_summary)
    prediction = prediction_field()
    resolve_prediction = staticmethod(resolve_prediction)
    recommendations = recommendations_field()
    resolve_recommendations = staticmethod(resolve_recommendations)
    timeline = graphene.Field(
        CRMTimelineConnection,
        required=True,
        first=graphene.Int(default_value=20),
        after=graphene.String(),
        kinds=graphene.List(
            graphene.NonNull(graphene.String),
            description='Only these kinds ("crm.order.placed"), or families ("crm.case.*").',
        ),
        description="Everything that happened to the customer, newest first, by cursor.",
    )
    notes = notes_field()
    resolve_notes = staticmethod(resolve_notes)
    tags = tags_field()
    resolve_tags = staticmethod(resolve_tags)
    cases = cases_field(CRMCase)
    resolve_cases = staticmethod(resolve_cases)

    @staticmethod
    def resolve_id(root: Profile, info: Any) -> str:
        return graphene.Node.to_global_id("CRMCustomer", root.pk)

    @staticmethod
    def resolve_is_guest(root: Profile, info: Any) -> bool:
        return root.user_id is None

    @staticmethod
    def resolve_total_spent(root: Profile, info: Any) -> CRMMoney:
        return money(root.spent_gross_minor, _base(root))

    @staticmethod
    def resolve_total_spent_net(root: Profile, info: Any) -> CRMMoney:
        return money(root.spent_net_minor, _base(root))

    @staticmethod
    def resolve_refunded(root: Profile, info: Any) -> CRMMoney:
        return money(root.refunded_minor, _base(root))

    @staticmethod
    def resolve_average_order(root: Profile, info: Any) -> CRMMoney:
        return money(root.average_order_minor, _base(root))

    @staticmethod
    def resolve_refund_rate(root: Profile, info: Any) -> float:
        return float(root.refund_rate)

    @staticmethod
    def resolve_totals_by_currency(root: Profile, info: Any) -> list[CRMCurrencyTotal]:
        return [
            CRMCurrencyTotal(
                currency=currency,
                orders=totals["orders"],
                total=money(totals["gross_minor"], currency),
                refunded=money(totals["refunded_minor"], currency),
            )
            for currency, totals in sorted(root.totals_by_currency.items())
        ]

    @staticmethod
    def resolve_timeline(
        root: Profile,
        info: Any,
        first: int = 20,
        after: str | None = None,
        kinds: list[str] | None = None,
    ) -> Any:
        if not 0 < first <= MAX_PAGE:
            raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
        wanted = tuple(sorted(set(kinds or ())))
        if any(not k or len(k) > 64 for k in wanted):
            raise InvalidInput(
                "Kinds are names like crm.order.placed or crm.case.*.", field="kinds"
            )
        if after:
            try:
                return _connection(timeline_page(root.pk, first=first, after=after, kinds=wanted))
            except ValueError as exc:
                raise InvalidInput("Invalid cursor.", field="after") from exc
        loader = crm_context(info).loader(TimelinePageByProfileIdLoader)
        return loader.load((root.pk, first, wanted)).then(_connection)


class CRMMe(graphene.ObjectType, _ProfileFields):
    """What a signed-in customer may read about themselves."""

    points = points_field()
    resolve_points = staticmethod(resolve_points)
    tier = graphene.Field(CRMTier, description="The loyalty tier held; null when none.")
    resolve_tier = staticmethod(resolve_tier)
    referral = graphene.Field(CRMReferral, required=True, description="Code and link to share.")
    resolve_referral = staticmethod(resolve_referral)
    rewards = rewards_field()
    resolve_rewards = staticmethod(resolve_rewards)
    membership = graphene.Field(
        CRMMembership, description="A paid membership (Stripe subscription); null when none."
    )
    resolve_membership = staticmethod(resolve_membership)
    consents = consents_field()
    resolve_consents = staticmethod(resolve_consents)
    lifecycle_stage = lifecycle_stage_field()
    resolve_lifecycle_stage = staticmethod(resolve_lifecycle_stage)
    next_order_at = next_order_field()
    resolve_next_order_at = staticmethod(resolve_next_order)
    recommendations = recommendations_field()
    resolve_recommendations = staticmethod(resolve_recommendations)
    cases = cases_field(CRMCustomerCase)
    resolve_cases = staticmethod(resolve_cases)

    total_spent = graphene.Field(
        CRMMoney, required=True, description="In the store's base currency."
    )

    @staticmethod
    def resolve_total_spent(root: Profile, info: Any) -> CRMMoney:
        return money(root.spent_gross_minor, _base(root))


class CRMCustomerEdge(graphene.ObjectType):
    node = graphene.Field(CRMCustomer, required=True)
    cursor = graphene.String(required=True)


class CRMPageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()


class CRMCustomerCountableConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CRMCustomerEdge), required=True)
    page_info = graphene.Field(CRMPageInfo, required=True)
    total_count = graphene.Int(required=True)

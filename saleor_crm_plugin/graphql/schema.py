"""The schema, composed from one query class per capability (as ``saleor/graphql/api.py``).

``FederationQueries`` adds the subgraph protocol (``_service``, ``_entities``); the ``User``
type it brings in is reachable only through ``_Entity``, which a gateway queries for us.
"""

from __future__ import annotations

import graphene

from .campaigns.schema import CampaignMutations, CampaignQueries
from .federation import FederationQueries
from .feedback.schema import FeedbackMutations, FeedbackQueries
from .kpis.schema import KpiQueries
from .loyalty.earning import EarningMutations, EarningQueries
from .loyalty.orders import OrderLoyaltyQueries
from .loyalty.referrals import ReferralMutations
from .loyalty.schema import BirthdayMutations, LoyaltyMutations
from .loyalty.tiers import TierMutations, TierQueries
from .messaging.flows import FlowQueries
from .messaging.schema import MessagingMutations
from .payments.schema import PaymentsMutations
from .predictions.schema import PredictionQueries
from .privacy.export import PrivacyMutations, PrivacyQueries
from .privacy.schema import ConsentMutations
from .profiles.schema import ProfileQueries
from .segments.schema import SegmentMutations, SegmentQueries
from .service.schema import ServiceMutations, ServiceQueries
from .settings.schema import SettingsMutations, SettingsQueries
from .tracking.schema import TrackingMutations


class Query(
    ProfileQueries,
    TierQueries,
    EarningQueries,
    OrderLoyaltyQueries,
    FlowQueries,
    SettingsQueries,
    SegmentQueries,
    FeedbackQueries,
    CampaignQueries,
    PrivacyQueries,
    PredictionQueries,
    KpiQueries,
    ServiceQueries,
    FederationQueries,
    graphene.ObjectType,
):
    pass


class Mutation(
    TrackingMutations,
    LoyaltyMutations,
    TierMutations,
    EarningMutations,
    ReferralMutations,
    BirthdayMutations,
    SettingsMutations,
    PaymentsMutations,
    MessagingMutations,
    ConsentMutations,
    SegmentMutations,
    FeedbackMutations,
    CampaignMutations,
    PrivacyMutations,
    ServiceMutations,
    graphene.ObjectType,
):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=True)

"""The schema, composed from one query class per capability (as ``saleor/graphql/api.py``).

``FederationQueries`` adds the subgraph protocol (``_service``, ``_entities``); the ``User``
type it brings in is reachable only through ``_Entity``, which a gateway queries for us.
"""

from __future__ import annotations

import graphene

from .federation import FederationQueries
from .loyalty.earning import EarningMutations, EarningQueries
from .loyalty.referrals import ReferralMutations
from .loyalty.schema import BirthdayMutations, LoyaltyMutations
from .loyalty.tiers import TierMutations, TierQueries
from .payments.schema import PaymentsMutations
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
    SettingsQueries,
    SegmentQueries,
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
    ConsentMutations,
    SegmentMutations,
    ServiceMutations,
    graphene.ObjectType,
):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=True)

"""The schema, composed from one query class per capability (as ``saleor/graphql/api.py``)."""

from __future__ import annotations

import graphene

from .profiles.schema import ProfileQueries
from .tracking.schema import TrackingMutations


class Query(ProfileQueries, graphene.ObjectType):
    pass


class Mutation(TrackingMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=True)

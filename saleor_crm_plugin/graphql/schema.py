"""The schema, composed from one query class per capability (as ``saleor/graphql/api.py``)."""

from __future__ import annotations

import graphene

from .profiles.schema import ProfileQueries


class Query(ProfileQueries, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, auto_camelcase=True)

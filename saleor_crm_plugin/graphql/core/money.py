"""Money as every capability's GraphQL shows it: an amount in units and its currency."""

from __future__ import annotations

import graphene

from ...money.currencies import from_minor


class CRMMoney(graphene.ObjectType):
    amount = graphene.Float(required=True, description="Amount in the currency's units.")
    currency = graphene.String(required=True, description="ISO 4217 code.")


def money(amount_minor: int, currency: str) -> CRMMoney:
    return CRMMoney(amount=float(from_minor(amount_minor, currency)), currency=currency)

from __future__ import annotations

from typing import Any

import graphene

from ...tracking import services
from ...tracking.errors import TrackingError
from ..core.context import crm_context, storefront_tenant
from ..core.errors import CRMGraphQLError
from ..core.principal import PrincipalKind


class CRMTrackEventKind(graphene.Enum):
    PRODUCT_VIEWED = "product_viewed"
    CATEGORY_VIEWED = "category_viewed"
    SEARCHED = "searched"
    ADDED_TO_CART = "added_to_cart"


class CRMTrackEventInput(graphene.InputObjectType):
    client_event_id = graphene.String(
        required=True, description="Unique per visitor; dedupes retries."
    )
    kind = CRMTrackEventKind(required=True)
    occurred_at = graphene.DateTime(required=True)
    subject_id = graphene.String(description="Saleor id of the product or category.")
    query = graphene.String(description="The search text, for SEARCHED.")
    channel = graphene.String(description="Channel slug of the storefront.")


class CRMTrackResult(graphene.ObjectType):
    accepted = graphene.Int(required=True, description="Events stored now.")
    duplicates = graphene.Int(required=True, description="Events already stored before.")
    stored = graphene.Boolean(required=True, description="False when tracking was declined.")


class CRMTrack(graphene.Mutation):
    """Storefront behaviour from an anonymous first-party visitor id, batched.

    Nothing is stored when ``consent`` is false. Events join the customer's profile when the
    visitor is signed in (Saleor token) or gives an ``email`` (e.g. at checkout).
    """

    class Arguments:
        visitor_id = graphene.String(required=True)
        events = graphene.List(graphene.NonNull(CRMTrackEventInput), required=True)
        consent = graphene.Boolean(required=True, description="The visitor allowed tracking.")
        email = graphene.String(description="Given at checkout; joins the visitor's history.")
        saleor_api_url = graphene.String(description="The store, when not signed in.")

    Output = CRMTrackResult

    @staticmethod
    def mutate(
        root: Any,
        info: Any,
        visitor_id: str,
        events: list[dict[str, Any]],
        consent: bool,
        email: str = "",
        saleor_api_url: str | None = None,
    ) -> CRMTrackResult:
        context = crm_context(info)
        principal = context.principal
        user_id = principal.user_id if principal.kind is PrincipalKind.CUSTOMER else None
        try:
            result = services.record_events(
                storefront_tenant(info, saleor_api_url),
                visitor_id,
                [
                    services.TrackInput(
                        client_event_id=e["client_event_id"],
                        kind=str(e["kind"]),
                        occurred_at=e["occurred_at"],
                        subject_id=e.get("subject_id") or "",
                        query=e.get("query") or "",
                        channel=e.get("channel") or "",
                    )
                    for e in events
                ],
                consent=consent,
                ip=context.client_ip,
                user_id=user_id,
                email=email or "",
            )
        except TrackingError as exc:
            raise CRMGraphQLError(str(exc), code=exc.code) from exc
        return CRMTrackResult(
            accepted=result.accepted, duplicates=result.duplicates, stored=result.stored
        )


class TrackingMutations(graphene.ObjectType):
    crm_track = CRMTrack.Field()

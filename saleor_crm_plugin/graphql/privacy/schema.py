"""The signed-in customer's own consents: read on crmMe, changed with crmConsentSet."""

from __future__ import annotations

from typing import Any

import graphene

from ...messaging.consent import ask_to_confirm
from ...privacy.models import Purpose, Source
from ...privacy.queries import ConsentState, consent_states
from ...privacy.services import grant_consent, withdraw_consent
from ...profiles.models import Profile
from ...profiles.queries import find_profile
from ..core.errors import CRMGraphQLError, InvalidInput
from ..core.permissions import require_customer

CRMConsentPurpose = graphene.Enum(
    "CRMConsentPurpose", [(p.name, p.value) for p in Purpose], description="What consent is for."
)


class CRMConsent(graphene.ObjectType):
    purpose = graphene.Field(CRMConsentPurpose, required=True)
    channel = graphene.String(required=True, description="Saleor channel slug; empty: all.")
    granted = graphene.Boolean(required=True)
    pending_confirmation = graphene.Boolean(
        required=True, description="Granted, waiting for the customer to confirm by e-mail."
    )
    since = graphene.DateTime(required=True)
    wording_version = graphene.String(required=True)

    @staticmethod
    def from_state(state: ConsentState) -> CRMConsent:
        return CRMConsent(
            purpose=state.purpose,
            channel=state.channel,
            granted=state.granted,
            pending_confirmation=state.pending_confirmation,
            since=state.since,
            wording_version=state.wording_version,
        )


def consents_field() -> graphene.List:
    return graphene.List(
        graphene.NonNull(CRMConsent),
        required=True,
        description="Every consent the customer has answered, as it stands now.",
    )


def resolve_consents(root: Profile, info: Any) -> list[CRMConsent]:
    return [CRMConsent.from_state(s) for s in consent_states(root)]


class ConsentMutations(graphene.ObjectType):
    crm_consent_set = graphene.Field(
        CRMConsent,
        purpose=CRMConsentPurpose(required=True),
        granted=graphene.Boolean(required=True, description="false withdraws."),
        channel=graphene.String(default_value="", description="Saleor channel slug; empty: all."),
        wording_version=graphene.String(
            default_value="", description="Version of the text the customer agreed to."
        ),
        description=(
            "The signed-in customer grants or withdraws a consent from their account page. "
            "A withdrawal stops queued messages before they are sent."
        ),
    )

    @staticmethod
    def resolve_crm_consent_set(
        root: Any, info: Any, purpose: str, granted: bool, channel: str, wording_version: str
    ) -> CRMConsent:
        tenant, user_id = require_customer(info)
        if len(channel) > 128 or len(wording_version) > 64:
            raise InvalidInput("The channel or wording version is too long.", field="channel")
        profile = find_profile(tenant, user_id=user_id)
        if profile is None:
            raise CRMGraphQLError("There is no CRM profile for you yet.", code="no_profile")
        value = getattr(purpose, "value", purpose)
        if granted:
            entry = grant_consent(
                profile, value, channel, source=Source.ACCOUNT, wording_version=wording_version
            )
            if value == Purpose.MARKETING_EMAIL:
                ask_to_confirm(entry)  # under double opt-in: the e-mail with the link
        else:
            withdraw_consent(profile, value, channel, source=Source.ACCOUNT)
        [state] = [s for s in consent_states(profile) if (s.purpose, s.channel) == (value, channel)]
        return CRMConsent.from_state(state)

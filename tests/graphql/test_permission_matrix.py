"""Every root field of the CRM's schema against every kind of caller.

Rows are the callers a CRM meets (anonymous, a customer, another customer, staff with and without
MANAGE_USERS, an app with and without it); columns are the root fields. Each cell says what
the caller gets: the data, only their own data, or null with a PermissionDenied error. A root
field added to the schema without a column here fails ``test_every_root_field_is_in_the_matrix``.

Callers are given as resolved principals (how tokens become principals is tested in
``test_profiles``, ``test_app_tokens`` and ``test_federation``), so this is about the rules alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.errors import PermissionDenied
from saleor_crm_plugin.graphql.core.principal import ANONYMOUS, Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from tests import recordings
from tests.graphql.conftest import ANNA, YUKI

pytestmark = pytest.mark.django_db

STAFF = "VXNlcjoyMQ=="
ANNA_EMAIL = "anna.mueller@example.de"
ANNA_SPENT = 196.6  # what only Anna and those allowed may see
NOW = datetime.now(UTC) - timedelta(minutes=1)
SEGMENT_PK = 4242
SEGMENT = "Q1JNU2VnbWVudDo0MjQy"  # CRMSegment:4242
CAMPAIGN_PK = 4243
CAMPAIGN = "Q1JNQ2FtcGFpZ246NDI0Mw=="  # CRMCampaign:4243

FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "crmCustomer": (
        "query($email: String) { crmCustomer(email: $email) { totalSpent { amount } } }",
        {"email": ANNA_EMAIL},
    ),
    "crmCustomers": (
        "{ crmCustomers(first: 50) { edges { node { totalSpent { amount } } } } }",
        {},
    ),
    "crmMe": ("{ crmMe { totalSpent { amount } } }", {}),
    "_entities": (
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on User { crmProfile { spentGross { amount } } } } }",
        {"r": [{"__typename": "User", "id": ANNA}]},
    ),
    "_service": ("{ _service { sdl } }", {}),
    "crmPointsAdjust": (
        'mutation { crmPointsAdjust(email: "anna.mueller@example.de", points: 5, '
        'reason: "goodwill", adjustmentId: "matrix-adjust") { pointsAvailable } }',
        {},
    ),
    "crmReferralClaim": (
        'mutation { crmReferralClaim(code: "MATRIXCD", email: "new.friend@example.org") '
        "{ accepted } }",
        {},
    ),
    "crmSetBirthday": ("mutation { crmSetBirthday(month: 5, day: 17) { month } }", {}),
    "crmConsentSet": (
        "mutation { crmConsentSet(purpose: MARKETING_EMAIL, granted: true) { granted } }",
        {},
    ),
    "crmTierProgram": ("{ crmTierProgram { version } }", {}),
    "crmStoreSettings": ("{ crmStoreSettings { name value } }", {}),
    "crmStoreSettingsSave": (
        "mutation($s: JSONString!) { crmStoreSettingsSave(settings: $s) { name value } }",
        {"s": json.dumps({"send_window": "08:00-21:00"})},
    ),
    "crmTierRulesSave": (
        "mutation($r: JSONString!) { crmTierRulesSave(rules: $r) { version } }",
        {"r": json.dumps({"tiers": [{"name": "Member", "entry": 0}]})},
    ),
    "crmTierDryRun": ("mutation { crmTierDryRun { summary } }", {}),
    "crmEarningRules": ("{ crmEarningRules { version rules } }", {}),
    "crmOrderLoyalty": (
        "query($o: ID!) { crmOrderLoyalty(orderId: $o) { status net } }",
        {"o": "T3JkZXI6bWF0cml4"},
    ),
    "crmFlows": ("{ crmFlows { kind } }", {}),
    "crmMessagePreview": ('{ crmMessagePreview(kind: "welcome", locale: "de") { subject } }', {}),
    "crmEarningRulesSave": (
        "mutation($r: JSONString!) { crmEarningRulesSave(rules: $r) { version } }",
        {"r": json.dumps({"return_days": 30})},
    ),
    "crmTierApply": ("mutation { crmTierApply { summary } }", {}),
    "crmMembershipCheckout": (
        'mutation { crmMembershipCheckout(tier: "Member", successUrl: "https://shop.example/ok", '
        'cancelUrl: "https://shop.example/no") { url } }',
        {},
    ),
    "crmStripeAccountSet": (
        'mutation { crmStripeAccountSet(webhookSecret: "whsec_matrix") { hasWebhookSecret } }',
        {},
    ),
    "crmMessagingChannelsSet": (
        'mutation { crmMessagingChannelsSet(twilioFrom: "+4915112345678") { smsReady } }',
        {},
    ),
    "crmRedeemPoints": (
        'mutation { crmRedeemPoints(points: 10, channel: "channel-eur", '
        'idempotencyKey: "matrix-01") { voucherCode } }',
        {},
    ),
    "crmSegments": ("{ crmSegments { name membersCount } }", {}),
    "crmSegment": (f'{{ crmSegment(id: "{SEGMENT}") {{ name members {{ email }} }} }}', {}),
    "crmSegmentPreview": (
        "query($r: JSONString!) { crmSegmentPreview(rules: $r) { count first { email } } }",
        {"r": json.dumps({"all": [{"field": "country", "op": "eq", "value": "DE"}]})},
    ),
    "crmSegmentExport": (f'{{ crmSegmentExport(id: "{SEGMENT}") {{ csv }} }}', {}),
    "crmLifecycleSettings": ("{ crmLifecycleSettings { mode } }", {}),
    "crmFeedback": ("{ crmFeedback(first: 5) { totalCount edges { node { rating } } } }", {}),
    "crmFeedbackGive": (
        'mutation { crmFeedbackGive(orderId: "T3JkZXI6bm90LW1pbmU=", rating: 5) { rating } }',
        {},
    ),
    "crmPredictionModel": ("{ crmPredictionModel { method reason } }", {}),
    "crmKpis": (
        '{ crmKpis(period: {from: "2020-01-01", to: "2030-01-01"}) '
        "{ customers revenue { amount } } }",
        {},
    ),
    "crmCohorts": (
        '{ crmCohorts(period: {from: "2020-01-01", to: "2030-01-01"}) { month customers } }',
        {},
    ),
    "crmCurrencyExposure": (
        '{ crmCurrencyExposure(period: {from: "2020-01-01", to: "2030-01-01"}) '
        "{ totals { currency atOrderRates { amount } } } }",
        {},
    ),
    "crmSegmentSave": (
        'mutation($r: JSONString!) { crmSegmentSave(name: "Matrix", rules: $r) { name } }',
        {"r": json.dumps({"all": [{"field": "orders_count", "op": "gte", "value": 1}]})},
    ),
    "crmSegmentDelete": (f'mutation {{ crmSegmentDelete(id: "{SEGMENT}") }}', {}),
    "crmLifecycleSettingsSave": (
        'mutation { crmLifecycleSettingsSave(mode: "days", atRiskAfter: "90", '
        'dormantAfter: "180", lostAfter: "365") { mode } }',
        {},
    ),
    "crmCampaigns": ("{ crmCampaigns { name status } }", {}),
    "crmCampaign": (
        f'{{ crmCampaign(id: "{CAMPAIGN}") {{ name counts {{ sent }} response {{ orders }} }} }}',
        {},
    ),
    "crmCampaignPreview": (
        f'{{ crmCampaignPreview(id: "{CAMPAIGN}", locale: "de-AT") {{ subject html }} }}',
        {},
    ),
    "crmCampaignSave": (
        "mutation($i: CRMCampaignInput!) { crmCampaignSave(input: $i) { name } }",
        {
            "i": {
                "name": "Matrix",
                "stage": "active",
                "steps": [
                    {
                        "sendAt": NOW.isoformat(),
                        "contents": [{"locale": "en", "subject": "Hi", "body": "Sale"}],
                    }
                ],
            }
        },
    ),
    "crmCampaignLaunch": (f'mutation {{ crmCampaignLaunch(id: "{CAMPAIGN}") {{ status }} }}', {}),
    "crmCampaignCancel": (f'mutation {{ crmCampaignCancel(id: "{CAMPAIGN}") {{ status }} }}', {}),
    "crmCustomerExport": (
        "query($email: String) { crmCustomerExport(email: $email) { version summaryHtml } }",
        {"email": ANNA_EMAIL},
    ),
    "crmMeExport": ("{ crmMeExport { version } }", {}),
    "crmCustomerErase": (
        'mutation { crmCustomerErase(email: "anna.mueller@example.de", reason: "matrix") '
        "{ erased } }",
        {},
    ),
    "crmCases": ("{ crmCases { subject customer { email } } }", {}),
    "crmCaseStats": (
        'query { crmCaseStats(from: "2026-01-01T00:00:00+00:00", to: "2027-01-01T00:00:00+00:00")'
        " { openNow } }",
        {},
    ),
    "crmNoteAdd": (
        'mutation { crmNoteAdd(email: "anna.mueller@example.de", body: "Matrix note") { body } }',
        {},
    ),
    "crmNoteDelete": ('mutation { crmNoteDelete(id: "Q1JNTm90ZTo0MjQy") }', {}),
    "crmCustomerTag": (
        'mutation { crmCustomerTag(email: "anna.mueller@example.de", tags: ["matrix"]) }',
        {},
    ),
    "crmCustomerUntag": (
        'mutation { crmCustomerUntag(email: "anna.mueller@example.de", tags: ["matrix"]) }',
        {},
    ),
    "crmCaseOpen": (
        'mutation { crmCaseOpen(email: "anna.mueller@example.de", type: QUESTION, '
        'subject: "Matrix") { status } }',
        {},
    ),
    "crmCaseUpdate": (
        'mutation { crmCaseUpdate(id: "Q1JNQ2FzZTo0MjQy", status: RESOLVED) { status } }',
        {},
    ),
    "crmMeCaseOpen": (
        'mutation { crmMeCaseOpen(type: QUESTION, subject: "Where is my parcel?") { status } }',
        {},
    ),
    "crmTrack": (
        'mutation($e: [CRMTrackEventInput!]!, $api: String) { crmTrack(visitorId: "visitor-0001", '
        "consent: true, events: $e, saleorApiUrl: $api) { accepted } }",
        {
            "api": recordings.API_URL,
            "e": [
                {
                    "clientEventId": "event-000001",
                    "kind": "PRODUCT_VIEWED",
                    "occurredAt": NOW.isoformat(),
                    "subjectId": "UHJvZHVjdDoxNTI=",
                }
            ],
        },
    ),
}

ALLOWED, OWN, DENIED = "allowed", "own", "denied"
SELF = "self"  # reaches only the caller's own data: done, or refused for their own reasons
CALLERS = (
    "anonymous",
    "customer",
    "other_customer",
    "staff_without_manage_users",
    "staff_with_manage_users",
    "app_without_manage_users",
    "app_with_manage_users",
)
# field -> what each caller in CALLERS gets
MATRIX: dict[str, tuple[str, ...]] = {
    "crmCustomer": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCustomers": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    # A customer (or staff member) reads their own profile; nobody reads someone else's here.
    "crmMe": (DENIED, OWN, OWN, OWN, OWN, DENIED, DENIED),
    # Asking for Anna's profile: Anna herself, or holders of MANAGE_USERS.
    "_entities": (DENIED, ALLOWED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "_service": (ALLOWED,) * 7,  # the SDL is public, as gateways expect
    "crmRedeemPoints": (DENIED, SELF, SELF, SELF, SELF, DENIED, DENIED),
    "crmReferralClaim": (ALLOWED,) * 7,
    # A customer's own birthday (staff without a profile of their own are told so).
    "crmSetBirthday": (
        DENIED,
        SELF,
        SELF,
        SELF,
        SELF,
        DENIED,
        DENIED,
    ),  # a referred friend arrives before signing in
    # A customer's own consents (staff without a profile of their own are told so).
    "crmConsentSet": (DENIED, SELF, SELF, SELF, SELF, DENIED, DENIED),
    # Adjusting points, tier rules and moves: staff and apps holding MANAGE_USERS.
    "crmPointsAdjust": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmTierProgram": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmTierRulesSave": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmTierDryRun": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmTierApply": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    # Earning rules, like the other store settings: MANAGE_USERS.
    "crmEarningRules": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmEarningRulesSave": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmStoreSettings": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    # The order page's loyalty widget and the flow editor: MANAGE_USERS, as customers' data.
    "crmOrderLoyalty": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmFlows": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmMessagePreview": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmStoreSettingsSave": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmTrack": (ALLOWED,) * 7,  # storefronts send behaviour before anyone signs in
    # A customer buys their own membership ("Member" here is not for sale: refused as such).
    "crmMembershipCheckout": (DENIED, SELF, SELF, SELF, SELF, DENIED, DENIED),
    # Segments and lifecycle thresholds: staff and apps holding MANAGE_USERS.
    "crmSegments": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmSegment": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmSegmentPreview": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmSegmentExport": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmLifecycleSettings": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmPredictionModel": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmKpis": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCohorts": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCurrencyExposure": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmSegmentSave": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmSegmentDelete": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmLifecycleSettingsSave": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    # Feedback: staff read everyone's; a customer rates only their own orders.
    "crmFeedback": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmFeedbackGive": (DENIED, SELF, SELF, SELF, SELF, DENIED, DENIED),
    # Campaigns: staff and apps holding MANAGE_USERS.
    "crmCampaigns": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCampaign": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCampaignPreview": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCampaignSave": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCampaignLaunch": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCampaignCancel": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    # Export and erasure of any customer: staff and apps holding MANAGE_USERS.
    "crmCustomerExport": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCustomerErase": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    # A customer's own export (staff have no profile of their own: null).
    "crmMeExport": (DENIED, SELF, SELF, SELF, SELF, DENIED, DENIED),
    # Notes, tags and service cases: staff and apps holding MANAGE_USERS. Deleting a note or
    # changing a case that does not exist (CRMNote:4242, CRMCase:4242) is refused as NOT_FOUND.
    "crmCases": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCaseStats": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmNoteAdd": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmNoteDelete": (DENIED, DENIED, DENIED, DENIED, SELF, DENIED, SELF),
    "crmCustomerTag": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCustomerUntag": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCaseOpen": (DENIED, DENIED, DENIED, DENIED, ALLOWED, DENIED, ALLOWED),
    "crmCaseUpdate": (DENIED, DENIED, DENIED, DENIED, SELF, DENIED, SELF),
    # A signed-in customer asks for help about themselves (staff without a profile are told so).
    "crmMeCaseOpen": (DENIED, SELF, SELF, SELF, SELF, DENIED, DENIED),
    # Stripe secrets: MANAGE_SETTINGS only, which none of these callers hold.
    "crmStripeAccountSet": (DENIED,) * 7,
    # SMS and WhatsApp credentials: MANAGE_SETTINGS only, as the Stripe secrets.
    "crmMessagingChannelsSet": (DENIED,) * 7,
}


def principal(caller: str, tenant: Any) -> Principal:
    staff = frozenset({"MANAGE_ORDERS"})
    return {
        "anonymous": ANONYMOUS,
        "customer": Principal(PrincipalKind.CUSTOMER, tenant, ANNA, ANNA_EMAIL),
        "other_customer": Principal(PrincipalKind.CUSTOMER, tenant, YUKI, "yuki.tanaka@example.jp"),
        "staff_without_manage_users": Principal(PrincipalKind.STAFF, tenant, STAFF, "", staff),
        "staff_with_manage_users": Principal(
            PrincipalKind.STAFF, tenant, STAFF, "", staff | {"MANAGE_USERS"}
        ),
        "app_without_manage_users": Principal(PrincipalKind.APP, tenant, permissions=staff),
        "app_with_manage_users": Principal(
            PrincipalKind.APP, tenant, permissions=frozenset({"MANAGE_USERS"})
        ),
    }[caller]


def run(field: str, caller: str, tenant: Any) -> tuple[Any, list[str], str]:
    query, variables = FIELDS[field]
    context = CRMContext(principal=principal(caller, tenant), client_ip="203.0.113.9")
    result = schema.execute(query, variable_values=variables, context_value=context)
    errors = [getattr(e, "original_error", e) for e in result.errors or []]
    codes = [f"{type(e).__name__}" if isinstance(e, PermissionDenied) else repr(e) for e in errors]
    return result.data, codes, json.dumps(result.data)


def test_every_root_field_is_in_the_matrix():
    roots = set(schema.get_query_type().fields) | set(schema.get_mutation_type().fields)
    assert roots == set(MATRIX) == set(FIELDS)


@pytest.mark.parametrize("field", list(MATRIX))
def test_the_field_gives_each_caller_what_the_matrix_says(field, store):
    """One store per field; each caller's call is rolled back before the next (a savepoint),
    so a mutation by one caller never changes what the next one meets."""
    from django.db import transaction

    from saleor_crm_plugin.loyalty.models import ReferralCode
    from saleor_crm_plugin.loyalty.tiers import TierRules, save_rules
    from saleor_crm_plugin.models import Campaign, CampaignStep, Profile, Segment
    from saleor_crm_plugin.segments.services import refresh_members

    save_rules(store, TierRules.from_data({"tiers": [{"name": "Member", "entry": 0}]}))
    anna = Profile.objects.get(email=ANNA_EMAIL)
    ReferralCode.objects.create(tenant=store, profile=anna, code="MATRIXCD")
    segment = Segment.objects.create(
        pk=SEGMENT_PK, tenant=store, name="Germany",
        rules={"all": [{"field": "country", "op": "eq", "value": "DE"}]},
    )  # fmt: skip
    refresh_members(segment, NOW)
    campaign = Campaign.objects.create(
        pk=CAMPAIGN_PK, tenant=store, name="Germany first", target_kind="segment",
        segment=segment, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    CampaignStep.objects.create(
        campaign=campaign, position=1, send_at=NOW + timedelta(days=1),
        content={"de": {"subject": "Hallo", "body": "Sommer"}, "en": {"subject": "Hi",
                                                                    "body": "Summer"}},
    )  # fmt: skip
    failures = []
    for caller in CALLERS:
        saved = transaction.savepoint()
        try:
            check(field, caller, store)
        except AssertionError as exc:
            failures.append(f"{caller}: {exc}")
        finally:
            transaction.savepoint_rollback(saved)
    assert failures == []


def check(field: str, caller: str, store: Any) -> None:
    expected = MATRIX[field][CALLERS.index(caller)]
    data, codes, text = run(field, caller, store)
    if expected == DENIED:
        assert codes == ["PermissionDenied"], (data, codes)
        assert str(ANNA_SPENT) not in text  # nothing of Anna leaks next to the error
    elif expected == SELF:
        assert "PermissionDenied" not in codes, codes
        assert (data[field] is None) == bool(codes) and str(ANNA_SPENT) not in text
    elif expected == OWN:
        assert codes == [], codes
        spent = {"customer": ANNA_SPENT, "other_customer": 97.49}.get(caller)
        if spent is None:  # staff have bought nothing: no profile of their own, no one else's
            assert data == {"crmMe": None}
        else:
            assert data == {"crmMe": {"totalSpent": {"amount": spent}}}
    else:
        assert codes == [], codes
        assert data is not None and None not in data.values()
    if expected == ALLOWED and field in ("crmCustomer", "_entities"):
        assert str(ANNA_SPENT) in text

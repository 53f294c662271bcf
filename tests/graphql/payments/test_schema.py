"""Staff with MANAGE_SETTINGS connect the store's Stripe account."""

from __future__ import annotations

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.models import StripeAccount
from saleor_crm_plugin.payments.accounts import credentials

pytestmark = pytest.mark.django_db

SET = """mutation($key: String, $secret: String) {
  crmStripeAccountSet(secretKey: $key, webhookSecret: $secret) {
    webhookUrl hasSecretKey hasWebhookSecret } }"""


def run(tenant, permissions: frozenset[str], **variables):
    who = Principal(PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "", permissions)
    result = schema.execute(SET, variable_values=variables, context_value=CRMContext(principal=who))
    return result.data, [getattr(e, "original_error", e) for e in result.errors or []]


def test_staff_with_manage_settings_store_the_keys_and_get_the_endpoint(tenant, settings):
    settings.CRM_PUBLIC_URL = "https://crm.example"
    data, errors = run(
        tenant, frozenset({"MANAGE_SETTINGS"}), key="sk_test_abc", secret="whsec_abc"
    )
    assert errors == []
    assert data["crmStripeAccountSet"] == {
        "webhookUrl": f"https://crm.example/api/stripe/{tenant.pk}/webhooks",
        "hasSecretKey": True,
        "hasWebhookSecret": True,
    }
    # omitting a secret keeps it; an empty one clears it
    run(tenant, frozenset({"MANAGE_SETTINGS"}), secret="")
    assert (credentials(tenant).api_key, credentials(tenant).webhook_secret) == ("sk_test_abc", "")


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"key": "pk_live_publishable"}, "secretKey"), ({"secret": "not-a-secret"}, "webhookSecret")],
)
def test_keys_that_are_not_stripe_secrets_are_refused(tenant, variables, field):
    data, errors = run(tenant, frozenset({"MANAGE_SETTINGS"}), **variables)
    assert data == {"crmStripeAccountSet": None}
    assert [e.field for e in errors] == [field]
    assert not StripeAccount.objects.exists()


def test_manage_users_is_not_enough(tenant):
    data, errors = run(tenant, frozenset({"MANAGE_USERS"}), key="sk_test_abc")
    assert [type(e).__name__ for e in errors] == ["PermissionDenied"]
    assert not StripeAccount.objects.exists()

"""The right of access: everything the CRM holds on a person, as JSON and as a readable page."""

from __future__ import annotations

import pytest
from django.db import connection

from saleor_crm_plugin.privacy.export import COVERED_TABLES, FORMAT, VERSION, export_customer
from saleor_crm_plugin.privacy.summary import render_summary
from tests.privacy.conftest import ANNA, ANNA_EMAIL, staff_token

pytestmark = pytest.mark.django_db

EXPORT = """
query($email: String, $userId: ID) {
  crmCustomerExport(email: $email, userId: $userId) { version document summaryHtml }
}"""


def test_every_table_about_a_person_is_in_the_export():
    """A new table pointing at crm_profile (a foreign key or a ``profile_id`` column) must get
    an export section; tables reached through another (recovery steps) may be listed too."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT DISTINCT c.conrelid::regclass::text FROM pg_constraint c
            WHERE c.contype = 'f' AND c.confrelid = 'crm_profile'::regclass
            UNION
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND column_name = 'profile_id'
              AND table_name LIKE 'crm\\_%%'
            """
        )
        about_people = {row[0] for row in cur.fetchall()} | {"crm_profile"}
    assert about_people - set(COVERED_TABLES) == set()
    assert {"crm_order", "crm_timeline", "crm_referral", "crm_tracked_event"} <= about_people


def test_the_export_holds_each_capability_of_the_customer(anna):
    document = export_customer(anna)
    assert (document["format"], document["version"]) == (FORMAT, VERSION)
    assert document["profile"]["email"] == ANNA_EMAIL
    assert document["profile"]["user_id"] == ANNA
    assert len(document["orders"]) == anna.orders.count() > 0
    assert {o["currency"] for o in document["orders"]} == set(
        anna.orders.values_list("currency", flat=True)
    )
    assert document["timeline"] and all("kind" in e for e in document["timeline"])
    assert [(c["purpose"], c["action"]) for c in document["consents"]] == [
        ("marketing_email", "grant")
    ]
    loyalty = document["loyalty"]
    assert (loyalty["tier"]["tier"], loyalty["referral_code"]["code"]) == ("Gold", "ANNA2026")
    assert loyalty["birthday"] == {"month": 5, "day": 17, "set_at": loyalty["birthday"]["set_at"]}
    assert [m["context"]["first_name"] for m in document["messages"]] == ["Anna"]
    assert {b["kind"] for b in document["behaviour"]} == {"product_viewed", "searched"}
    assert [m["segment__name"] for m in document["segments"]["memberships"]] == ["Germany"]
    stages = document["segments"]["stage_history"]  # her orders gave her a first stage
    assert stages[0]["from_stage"] == ""
    assert stages[-1]["to_stage"] == document["segments"]["scores"]["stage"] != ""
    assert document["recovery"][0]["status"] == "active"
    assert document["recovery"][0]["steps"] == []
    assert [m["subscription_id"] for m in document["memberships"]] == ["sub_anna"]


def test_an_advocate_sees_no_address_of_the_friends_they_referred(anna):
    from saleor_crm_plugin.models import Profile
    from tests.privacy.conftest import YUKI

    yuki = export_customer(Profile.objects.get(user_id=YUKI))
    assert yuki["loyalty"]["referrals"] == [
        {
            "status": "claimed",
            "reason": "",
            "created_at": yuki["loyalty"]["referrals"][0]["created_at"],
        }
    ]
    assert ANNA_EMAIL not in str(yuki)


def test_the_summary_page_is_in_the_customers_language(anna):
    document = export_customer(anna)
    german = render_summary(document, "de")
    assert '<html lang="de" dir="ltr">' in german
    assert "<h2>Bestellungen</h2>" in german and ANNA_EMAIL in german
    arabic = render_summary(document, "ar")
    assert 'dir="rtl"' in arabic and "<h2>Orders</h2>" not in arabic
    assert "<h2>Orders</h2>" in render_summary(document, "xx")


def test_staff_export_a_customer_by_email_and_others_get_nothing(anna, issuer, gql):
    result = gql(EXPORT, {"email": ANNA_EMAIL}, staff_token(issuer))
    export = result["data"]["crmCustomerExport"]
    assert export["version"] == VERSION
    assert '"anna.mueller@example.de"' in export["document"]
    assert "<h2>" in export["summaryHtml"]
    assert gql(EXPORT, {"email": "nobody@example.org"}, staff_token(issuer)) == {
        "data": {"crmCustomerExport": None}
    }
    own = issuer.token(user_id=ANNA, email=ANNA_EMAIL)
    denied = gql(EXPORT, {"userId": ANNA}, own)
    assert denied["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"


def test_a_customer_exports_their_own_data(anna, issuer, gql):
    own = issuer.token(user_id=ANNA, email=ANNA_EMAIL)
    result = gql("{ crmMeExport { document } }", token=own)
    assert f'"user_id": "{ANNA}"' in result["data"]["crmMeExport"]["document"]

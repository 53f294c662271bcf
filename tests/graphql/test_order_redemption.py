"""crmOrderLoyalty shows the reward a customer spent on an order: Saleor's signed order
delivery names the voucher code, and the CRM links the order to the redemption that issued it.

The reward is redeemed through the app door against a loopback Saleor (tests/loyalty/
test_rewards.py); the orders arrive as signed webhook deliveries, as Saleor sends them.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid

import pytest
from django.test import Client

from saleor_crm_plugin.demo.signing import DemoSigner
from saleor_crm_plugin.models import Delivery, DeliveryState, OrderRecord, PointsEntry
from saleor_crm_plugin.tenants.models import Tenant
from tests import recordings
from tests.graphql.conftest import ANNA
from tests.loyalty.test_rewards import redeem, saleor  # noqa: F401  (the loopback Saleor)

pytestmark = pytest.mark.django_db(transaction=True)

QUERY = """
query($id: ID!) { crmOrderLoyalty(orderId: $id) {
  status number
  redemption { points code value { amount currency } redeemedAt }
} }"""


@pytest.fixture
def signer(tenant, saleor, issuer) -> DemoSigner:  # noqa: F811
    """Saleor's signing key: the tenant's JWKS holds it beside the staff token issuer's."""
    signer = DemoSigner()
    tenant.refresh_from_db()  # Saleor now answers on loopback (the ``saleor`` fixture)
    tenant.jwks = {"keys": [*tenant.jwks["keys"], *signer.jwks()["keys"]]}
    tenant.save(update_fields=["jwks"])
    return signer


@pytest.fixture
def staff(signer, issuer):
    issuer.iss = Tenant.objects.get().saleor_api_url
    return issuer.token(user_id="VXNlcjoyMQ==", staff=True, permissions=("MANAGE_USERS",))


def an_order(number: str, voucher_code: str | None, *, minutes: int = 0) -> tuple[str, dict]:
    """Anna's recorded order #21 as a new order with its own id, updated ``minutes`` later."""
    item = copy.deepcopy(json.loads(recordings.delivery(10).body))
    item = item[0] if isinstance(item, list) else item
    order_id = base64.b64encode(f"Order:{uuid.uuid5(uuid.NAMESPACE_OID, number)}".encode())
    order = item["order"]
    order.update(id=order_id.decode(), number=number, checkoutId=None)
    if voucher_code is None:
        order.pop("voucherCode", None)  # a payload from before the CRM asked for it
    else:
        order["voucherCode"] = voucher_code
    order["updatedAt"] = f"2026-11-23T14:{minutes:02d}:00+00:00"
    item["issuedAt"] = f"2026-11-23T14:{minutes:02d}:01+00:00"
    return order["id"], item


def deliver(signer: DemoSigner, event: str, item: dict) -> dict:
    body = json.dumps(item).encode()
    headers = signer.headers(event, body, Tenant.objects.get().saleor_api_url)
    headers.pop("Content-Type")
    last = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = Client().post(
        "/api/webhooks", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content
    failed = Delivery.objects.filter(pk__gt=last, state=DeliveryState.FAILED)
    assert not failed.exists(), list(failed.values_list("error_message", flat=True))
    return response.json()


def shown(gql, staff, order_id: str) -> dict:
    body = gql(QUERY, {"id": order_id}, token=staff)
    assert "errors" not in body, body
    return body["data"]["crmOrderLoyalty"]


def test_an_order_paid_with_a_reward_voucher_shows_the_points_redeemed(tenant, signer, gql, staff):
    reward = redeem(tenant, 150, channel="default-channel")["data"]["crmRedeemPoints"]
    code = reward["voucherCode"]
    order_id, item = an_order("9001", code)
    assert deliver(signer, "order_created", item)["duplicate"] is False

    data = shown(gql, staff, order_id)
    assert data["status"] == "CUSTOMER" and data["number"] == "9001"
    spent = data["redemption"]
    assert (spent["points"], spent["code"]) == (150, code)
    assert spent["value"] == {"amount": 1.8, "currency": "USD"}  # as the voucher was issued
    assert OrderRecord.objects.get(order_id=order_id).voucher_code == code


def test_replays_and_late_older_snapshots_link_the_redemption_once(tenant, signer, gql, staff):
    code = redeem(tenant, 150, channel="default-channel")["data"]["crmRedeemPoints"]["voucherCode"]
    entry = PointsEntry.objects.get(source="redemption", kind="redeem")
    order_id, newer = an_order("9002", code, minutes=5)
    _, older = an_order("9002", None, minutes=1)  # sent before the code, arriving last

    assert deliver(signer, "order_updated", newer)["duplicate"] is False
    assert deliver(signer, "order_updated", newer)["duplicate"] is True
    deliver(signer, "order_created", older)
    # The same single-use code on another order (a replayed edit) is not a second spending.
    other_id, other = an_order("9003", code, minutes=7)
    deliver(signer, "order_created", other)

    order = OrderRecord.objects.get(order_id=order_id)
    assert (order.voucher_code, order.redemption_id) == (code, entry.pk)
    assert OrderRecord.objects.filter(redemption=entry).count() == 1
    assert shown(gql, staff, order_id)["redemption"]["points"] == 150
    assert shown(gql, staff, other_id)["redemption"] is None


def test_an_order_with_a_code_the_crm_did_not_issue_shows_no_redemption(tenant, signer, gql, staff):
    redeem(tenant, 150, channel="default-channel")
    order_id, item = an_order("9004", "SUMMER-SALE-10")
    deliver(signer, "order_created", item)
    data = shown(gql, staff, order_id)
    assert data["status"] == "CUSTOMER" and data["redemption"] is None
    assert OrderRecord.objects.get(order_id=order_id).voucher_code == "SUMMER-SALE-10"
    # A recorded delivery without a reward keeps working and shows none either.
    recorded = shown(gql, staff, "T3JkZXI6YjExNmRhNWUtYTllOC00NDA3LTk5OTQtZTZlNWJmYjdjMDhk")
    assert recorded["number"] == "21" and recorded["redemption"] is None


def test_a_deleted_customer_takes_the_redemption_and_the_order_stays_anonymous(
    tenant, signer, gql, staff
):
    from django.utils import timezone

    from saleor_crm_plugin.profiles.identity import delete_customers

    code = redeem(tenant, 150, channel="default-channel")["data"]["crmRedeemPoints"]["voucherCode"]
    order_id, item = an_order("9005", code)
    deliver(signer, "order_created", item)
    assert OrderRecord.objects.get(order_id=order_id).redemption_id is not None

    delete_customers(tenant.pk, [(ANNA, "anna.mueller@example.de", timezone.now())])
    assert not PointsEntry.objects.filter(source="redemption").exists()
    order = OrderRecord.objects.get(order_id=order_id)
    assert (order.profile_id, order.redemption_id) == (None, None)
    assert shown(gql, staff, order_id)["redemption"] is None

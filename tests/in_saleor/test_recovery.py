"""Recovery discounts inside a real Saleor 3.24: the voucher is made with Saleor's own models.

Run by hand (see ``conftest.py``); skipped where Saleor is absent.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

pytest.importorskip("saleor.plugins.manager", reason="Saleor is not installed here")

from django.utils import timezone

from saleor_crm_plugin.inbox.services import drain
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent
from saleor_crm_plugin.recovery import services
from saleor_crm_plugin.recovery.messages import send_step
from saleor_crm_plugin.recovery.models import RecoveryStep
from saleor_crm_plugin.recovery.tasks import schedule_for
from saleor_crm_plugin.tenants.services import plugin_tenant

from .test_mutations import CHECKOUT_COMPLETE

pytestmark = [
    pytest.mark.saleor,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

ADD_PROMO_CODE = """
mutation add($id: ID, $code: String!) {
  checkoutAddPromoCode(id: $id, promoCode: $code) {
    checkout { voucherCode subtotalPrice { gross { amount } } discount { amount } }
    errors { field code message }
  }
}
"""


SUBTOTAL = "query($id: ID) { checkout(id: $id) { subtotalPrice { gross { amount } } } }"


def subtotal(client, checkout) -> Decimal:
    from saleor.graphql.core.utils import to_global_id_or_none
    from saleor.graphql.tests.utils import get_graphql_content

    content = get_graphql_content(
        client.post_graphql(SUBTOTAL, {"id": to_global_id_or_none(checkout)})
    )
    return Decimal(str(content["data"]["checkout"]["subtotalPrice"]["gross"]["amount"]))


def add_code(client, checkout, code: str) -> dict:
    from saleor.graphql.core.utils import to_global_id_or_none
    from saleor.graphql.tests.utils import get_graphql_content

    variables = {"id": to_global_id_or_none(checkout), "code": code}
    content = get_graphql_content(client.post_graphql(ADD_PROMO_CODE, variables))
    return content["data"]["checkoutAddPromoCode"]


def test_a_recovery_step_with_a_discount_gives_a_single_use_voucher_that_works_in_saleor(
    crm,
    customer_user,
    checkout_with_item,
    user_api_client,
    address,
    checkout_delivery,
    transaction_item_generator,
    transaction_events_generator,
):
    from saleor.checkout import calculations
    from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
    from saleor.checkout.models import Checkout
    from saleor.checkout.tests.utils import add_variant_to_checkout
    from saleor.discount.models import VoucherCode
    from saleor.graphql.core.utils import to_global_id_or_none
    from saleor.payment import TransactionEventType
    from saleor.payment.transaction_item_calculations import recalculate_transaction_amounts
    from saleor.plugins.manager import get_plugins_manager

    manager = get_plugins_manager(allow_replica=False)
    plugin = manager.get_plugin("saleor.crm")
    # The merchant sets a 10 % discount on the first reminder in Saleor's dashboard.
    change = [{"name": "recovery_discounts", "value": "10%/7"}]
    type(plugin).save_plugin_configuration(crm, {"configuration": change})
    manager = get_plugins_manager(allow_replica=False)
    manager.customer_created(customer_user)
    drain()
    grant_consent(
        Profile.objects.get(email=customer_user.email.lower()),
        "marketing_email",
        source=Source.CHECKOUT,
        wording_version="v1",
    )
    cart = checkout_with_item  # 3 items in channel-USD, left alone by the shopper
    cart.user, cart.email = customer_user, customer_user.email
    cart.save()
    lines, _ = fetch_checkout_lines(cart)  # Saleor prices the cart as its storefront shows it
    info = fetch_checkout_info(cart, lines, manager)
    calculations.fetch_checkout_data(info, manager, lines, customer_user, force_update=True)
    cart.refresh_from_db()
    assert cart.total_gross_amount > 0
    manager.checkout_updated(cart)
    drain()

    tenant = plugin_tenant("USD")
    later = timezone.now() + timedelta(hours=2)
    assert services.start_flows(tenant, schedule_for(tenant), later) == 1
    assert services.run_due_steps(tenant, send_step, later) == 1
    step = RecoveryStep.objects.get()
    assert step.discount_code.startswith("CRM-")
    voucher = VoucherCode.objects.get(code=step.discount_code).voucher
    assert (voucher.single_use, voucher.usage_limit, voucher.discount_value_type) == (
        True,
        1,
        "percentage",
    )

    # The shopper types the code from the reminder into the cart it is about.
    variant = cart.lines.first().variant
    before = subtotal(user_api_client, cart)
    applied = add_code(user_api_client, cart, step.discount_code)
    assert not applied["errors"], applied["errors"]
    assert applied["checkout"]["voucherCode"] == step.discount_code
    discount = Decimal(str(applied["checkout"]["discount"]["amount"]))
    assert discount == (before * Decimal("0.10")).quantize(Decimal("0.01")) > 0

    # ... pays and places the order with it.
    cart.refresh_from_db()
    cart.shipping_address = cart.billing_address = address
    cart.assigned_delivery = checkout_delivery(cart)
    cart.price_expiration = timezone.now()  # priced again with the delivery and the voucher
    cart.save()
    lines, _ = fetch_checkout_lines(cart)
    info = fetch_checkout_info(cart, lines, manager)
    total = calculations.calculate_checkout_total_with_gift_cards(manager, info, lines)
    payment = transaction_item_generator(checkout_id=cart.pk, name="Stripe")
    transaction_events_generator(
        transaction=payment,
        psp_references=["pi_voucher"],
        types=[TransactionEventType.CHARGE_SUCCESS],
        amounts=[total.gross.amount],
    )
    recalculate_transaction_amounts(payment)
    cart.price_expiration = timezone.now()
    cart.save()
    placed = user_api_client.post_graphql(CHECKOUT_COMPLETE, {"id": to_global_id_or_none(cart)})
    result = placed.json()["data"]["checkoutComplete"]
    assert not result["errors"] and result["order"], result

    # A second cart: the code was for one use only.
    another = Checkout.objects.create(
        currency="USD", channel=cart.channel, user=customer_user, email=customer_user.email
    )
    add_variant_to_checkout(fetch_checkout_info(another, [], manager), variant, 1)
    refused = add_code(user_api_client, another, step.discount_code)
    assert refused["errors"] and refused["errors"][0]["field"] == "promoCode", refused

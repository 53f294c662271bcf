"""Predictions and recommendations through GraphQL, on the store of
tests/predictions/test_recommendations.py (fay bought a stroller 5 days ago for 10 EUR and
since viewed a lamp and a tent; ann bought 30 days apart, the store's only repeat buyer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.segments.services import recompute_store
from tests.predictions.test_recommendations import build
from tests.segments.store import NOW

pytestmark = pytest.mark.django_db(transaction=True)

FAY = "VXNlcjo5MDY="


def run(principal: Principal, query: str, **variables: Any) -> tuple[Any, list[str]]:
    context = CRMContext(principal=principal, client_ip="203.0.113.9")
    result = schema.execute(query, variable_values=variables, context_value=context)
    return result.data, [str(getattr(e, "original_error", e)) for e in result.errors or []]


@pytest.fixture
def store(tenant, monkeypatch):
    build(tenant)
    Profile.objects.filter(email="fay@example.de").update(user_id=FAY)
    recompute_store(tenant, NOW)
    # Recommendations read views of the last 30 days before "now": freeze it.
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return tenant


def staff(tenant) -> Principal:
    return Principal(PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "", frozenset({"MANAGE_USERS"}))


def test_staff_see_the_prediction_and_recommendations_of_a_customer(store):
    data, errors = run(
        staff(store),
        '{ crmCustomer(email: "fay@example.de") { prediction { method churnRisk nextOrderAt '
        "expectedOrders12m expectedOrderValue { amount currency } value12m { amount } } "
        "recommendations(first: 3) { productId name reason because } } }",
    )
    assert errors == []
    # Heuristic: the store's gap is ann's 30 days and fay is 5 days into it; 1 of 6 buyers
    # came back (risk 5/6); 1 repeat purchase in 60 + 50 + 40 + 20 + 10 + 5 = 185 customer-days.
    assert data["crmCustomer"]["prediction"] == {
        "method": "heuristic", "churnRisk": 0.8333,
        "nextOrderAt": (NOW + timedelta(days=25)).isoformat(), "expectedOrders12m": 1.973,
        "expectedOrderValue": {"amount": 10.0, "currency": "EUR"}, "value12m": {"amount": 19.73},
    }  # fmt: skip
    assert data["crmCustomer"]["recommendations"] == [
        {"productId": "P-lamp", "name": "Lamp", "reason": "viewed", "because": ""},
        {"productId": "P-tent", "name": "Tent", "reason": "viewed", "because": ""},
        {"productId": "P-bottle", "name": "Bottle", "reason": "bought_together",
         "because": "P-stroller"},
    ]  # fmt: skip
    data, errors = run(
        staff(store), "{ crmPredictionModel { method reason customers repeatCustomers } }"
    )
    assert data["crmPredictionModel"] == {
        "method": "heuristic", "reason": "customers who bought twice or more: 1 (BG/NBD needs 50)",
        "customers": 6, "repeatCustomers": 1,
    }  # fmt: skip


def test_a_customer_sees_their_next_order_date_and_recommendations_not_their_churn_risk(store):
    me = Principal(PrincipalKind.CUSTOMER, store, FAY, "fay@example.de")
    data, errors = run(me, "{ crmMe { nextOrderAt recommendations(first: 2) { slug reason } } }")
    assert errors == []
    assert data["crmMe"] == {
        "nextOrderAt": (NOW + timedelta(days=25)).isoformat(),
        "recommendations": [
            {"slug": "lamp", "reason": "viewed"}, {"slug": "tent", "reason": "viewed"},
        ],
    }  # fmt: skip
    _, errors = run(me, "{ crmMe { prediction { churnRisk } } }")
    assert errors and "Cannot query field" in errors[0]


def test_a_customers_next_order_date_follows_her_new_order_before_any_recompute(store):
    from saleor_crm_plugin.predictions.rescore import rescore_customers
    from saleor_crm_plugin.profiles.queries import customers_of_orders
    from tests.segments.store import place

    # Fay buys again a day ago, four days after her first order: her own gap is
    # max(4, 7) = 7 days, so her next order is due 7 days after this one, not the store's 30.
    place(store, "fay-2", "fay@example.de", 10, NOW - timedelta(days=1), user_id=FAY)
    assert (
        rescore_customers(store, customers_of_orders(store, ["fay-2"]), NOW) == 1
    )  # as the inbox batch does
    me = Principal(PrincipalKind.CUSTOMER, store, FAY, "fay@example.de")
    data, errors = run(me, "{ crmMe { nextOrderAt } }")
    assert (data, errors) == ({"crmMe": {"nextOrderAt": (NOW + timedelta(days=6)).isoformat()}}, [])

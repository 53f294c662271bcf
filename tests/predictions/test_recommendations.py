"""Recommendations on a hand-built store of seven purchases (NOW as in tests/segments/store.py).

  o1 ann {stroller, bottle}   o2 ann {diapers}        o3 bob {stroller, bottle}
  o4 cem {stroller, bottle, tent}   o5 dan {tent, lamp}   o6 eve {tent, lamp}   o7 fay {stroller}
  gus: only a cancelled order {book}. Categories: baby (stroller, bottle, diapers), outdoor
  (tent, lamp), books (book).

Purchases with each product: stroller 4, bottle 3, tent 3, lamp 2, diapers 1. Pairs in two or
more purchases: stroller+bottle 3 (stroller -> bottle: confidence 3/4, lift 0.75 / (3/7) = 1.75;
bottle -> stroller 3/3, lift 1.75), tent+lamp 2 (tent -> lamp 2/3, lift (2/3) / (2/7) = 2.3333;
lamp -> tent 2/2, 2.3333). Bestsellers: baby stroller 1, bottle 2, diapers 3; outdoor tent 1,
lamp 2.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from saleor_crm_plugin.inbox.types import Event, Kind, Line, Order
from saleor_crm_plugin.models import (
    CategoryAffinity,
    CategoryBestseller,
    ConsentEntry,
    ProductPair,
    TrackedEvent,
)
from saleor_crm_plugin.predictions.recommendations import (
    compute_recommendations,
    recommendations_for,
)
from saleor_crm_plugin.profiles.services import apply_events
from tests.segments.store import NOW, profile_id

pytestmark = pytest.mark.django_db(transaction=True)

CATEGORY = {"stroller": "baby", "bottle": "baby", "diapers": "baby", "tent": "outdoor",
            "lamp": "outdoor", "book": "books"}  # fmt: skip


def buy(tenant, order_id, email, products, days_ago, status="FULFILLED"):
    at = NOW - timedelta(days=days_ago)
    lines = tuple(
        Line(product_id=f"P-{p}", product_slug=p, product_name=p.title(), variant_id=f"V-{p}",
             sku=p, category_slug=CATEGORY[p], category_name=CATEGORY[p].title(), quantity=1,
             total_gross_minor=1000)
        for p in products
    )  # fmt: skip
    order = Order(
        order_id=order_id, number=order_id, channel="default", currency="EUR", status=status,
        user_id=None, email=email, language="de", country="DE", created_at=at, updated_at=at,
        total_gross_minor=1000 * len(products), total_net_minor=1000 * len(products),
        charged_minor=1000 * len(products), refunded_minor=0, lines=lines,
    )  # fmt: skip
    with transaction.atomic():
        apply_events(tenant, [(1, Event(Kind.ORDER_UPDATED, at, order=order))])


def view(tenant, email, product, days_ago, n=[0]):  # noqa: B006 - a counter for unique ids
    n[0] += 1
    TrackedEvent.objects.create(
        tenant=tenant, visitor_id="visitor-" + email[:3], client_event_id=f"event-{n[0]:04d}",
        profile_id=profile_id(email), kind="product_viewed", subject_id=f"P-{product}",
        occurred_at=NOW - timedelta(days=days_ago),
    )  # fmt: skip


def build(tenant):
    buy(tenant, "o1", "ann@example.de", ["stroller", "bottle"], 60)
    buy(tenant, "o2", "ann@example.de", ["diapers"], 30)
    buy(tenant, "o3", "bob@example.de", ["stroller", "bottle"], 50)
    buy(tenant, "o4", "cem@example.de", ["stroller", "bottle", "tent"], 40)
    buy(tenant, "o5", "dan@example.de", ["tent", "lamp"], 20)
    buy(tenant, "o6", "eve@example.de", ["tent", "lamp"], 10)
    buy(tenant, "o7", "fay@example.de", ["stroller"], 5)
    buy(tenant, "o8", "gus@example.de", ["book"], 5, status="CANCELED")
    view(tenant, "fay@example.de", "tent", 2)
    view(tenant, "fay@example.de", "tent", 3)
    view(tenant, "fay@example.de", "lamp", 1)
    view(tenant, "fay@example.de", "stroller", 1)  # bought already
    view(tenant, "fay@example.de", "diapers", 40)  # older than 30 days
    view(tenant, "gus@example.de", "book", 3)
    compute_recommendations(tenant, NOW)


def recs(tenant, email, limit=10):
    found = recommendations_for(tenant, [profile_id(email)], limit, NOW)
    return [(r.product_id, r.reason, r.because) for r in found.get(profile_id(email), [])]


def test_pairs_affinities_and_bestsellers_worked_out_by_hand(tenant):
    build(tenant)
    pairs = {(p.product_id, p.other_id): (p.orders, p.confidence, p.lift)
             for p in ProductPair.objects.filter(tenant=tenant)}  # fmt: skip
    assert pairs == {
        ("P-stroller", "P-bottle"): (3, 0.75, 1.75),
        ("P-bottle", "P-stroller"): (3, 1.0, 1.75),
        ("P-tent", "P-lamp"): (2, 0.6667, 2.3333),
        ("P-lamp", "P-tent"): (2, 1.0, 2.3333),
    }
    best = {(b.category_slug, b.product_id): b.rank for b in CategoryBestseller.objects.all()}
    assert best == {("baby", "P-stroller"): 1, ("baby", "P-bottle"): 2, ("baby", "P-diapers"): 3,
                    ("outdoor", "P-tent"): 1, ("outdoor", "P-lamp"): 2}  # fmt: skip
    cem = CategoryAffinity.objects.filter(profile_id=profile_id("cem@example.de"))
    assert {(a.category_slug, a.orders, a.share) for a in cem} == {
        ("baby", 1, 1.0), ("outdoor", 1, 1.0)
    }  # fmt: skip
    assert not CategoryAffinity.objects.filter(profile_id=profile_id("gus@example.de")).exists()


def test_viewed_first_then_bought_together_then_category_never_what_they_bought(tenant):
    build(tenant)
    assert recs(tenant, "fay@example.de") == [
        ("P-lamp", "viewed", ""),  # viewed a day ago
        ("P-tent", "viewed", ""),  # two days ago
        ("P-bottle", "bought_together", "P-stroller"),  # beats bottle as a baby bestseller
        ("P-diapers", "category", "baby"),  # its view is older than 30 days
    ]
    assert recs(tenant, "fay@example.de", limit=1) == [("P-lamp", "viewed", "")]
    assert recs(tenant, "cem@example.de") == [
        ("P-lamp", "bought_together", "P-tent"),
        ("P-diapers", "category", "baby"),
    ]
    assert recs(tenant, "bob@example.de") == [("P-diapers", "category", "baby")]
    assert recs(tenant, "dan@example.de") == []  # bought all of outdoor, nothing goes with it
    assert recs(tenant, "gus@example.de") == [("P-book", "viewed", "")]  # cancelled: not bought


def test_names_come_from_the_catalogue_and_many_customers_load_at_once(tenant):
    build(tenant)
    ids = [profile_id(e) for e in ("bob@example.de", "cem@example.de", "dan@example.de")]
    found = recommendations_for(tenant, ids, 5, NOW)
    assert sorted(found) == sorted(ids[:2])
    diapers = found[ids[0]][0]
    assert (diapers.name, diapers.slug, diapers.category_slug) == ("Diapers", "diapers", "baby")


def test_withdrawn_tracking_consent_drops_viewed_products(tenant):
    build(tenant)
    ConsentEntry.objects.create(
        tenant=tenant, profile_id=profile_id("fay@example.de"), purpose="behaviour_tracking",
        action="withdraw", source="account", occurred_at=NOW - timedelta(hours=1),
    )  # fmt: skip
    assert recs(tenant, "fay@example.de") == [
        ("P-bottle", "bought_together", "P-stroller"),
        ("P-diapers", "category", "baby"),
    ]


def test_rebuilding_gives_the_same_tables(tenant):
    build(tenant)
    before = sorted(ProductPair.objects.values_list("product_id", "other_id", "orders"))
    compute_recommendations(tenant, NOW)
    assert sorted(ProductPair.objects.values_list("product_id", "other_id", "orders")) == before
    assert CategoryAffinity.objects.filter(tenant=tenant).count() == 7  # cem has two


def test_reminders_suggest_a_few_recommended_products_they_do_not_show_already(tenant):
    from saleor_crm_plugin.recovery.messages import step_data
    from saleor_crm_plugin.recovery.services import DueStep

    build(tenant)
    fay = profile_id("fay@example.de")
    common = dict(flow_id=1, tenant_id=tenant.pk, profile_id=fay, step=0, last=True,
                  channel="default", currency="EUR", total_gross_minor=1000, due_at=NOW,
                  at=NOW)  # fmt: skip
    browse = step_data(tenant, DueStep(kind="browse", checkout_id="", lines=["P-lamp"], **common))
    assert browse == {"products": ["Lamp"], "recommended": ["Tent", "Bottle", "Diapers"]}
    cart = [{"product_id": "P-tent", "product_name": "Tent", "quantity": 1,
             "total_gross_minor": 1000}]  # fmt: skip
    checkout = step_data(tenant, DueStep(kind="checkout", checkout_id="c1", lines=cart, **common))
    assert checkout["recommended"] == ["Lamp", "Bottle", "Diapers"]


def test_a_deleted_customer_takes_their_prediction_and_affinities_along(tenant):
    from saleor_crm_plugin.models import CustomerPrediction
    from saleor_crm_plugin.predictions.services import predict_store
    from saleor_crm_plugin.profiles.identity import delete_customers

    build(tenant)
    predict_store(tenant, NOW)
    fay = profile_id("fay@example.de")
    assert CustomerPrediction.objects.filter(profile_id=fay).exists()
    delete_customers(tenant.pk, [("VXNlcjo5OTk=", "fay@example.de", NOW)])
    assert not CustomerPrediction.objects.filter(profile_id=fay).exists()
    assert not CategoryAffinity.objects.filter(profile_id=fay).exists()
    assert CustomerPrediction.objects.count() == 5 and CategoryAffinity.objects.count() == 6

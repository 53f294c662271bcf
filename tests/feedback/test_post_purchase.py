"""The post-purchase e-mail and its rating links, end to end: orders arrive as Saleor sends
them, the e-mail goes through a real SMTP server, the links are opened and posted like a
browser does, staff read the result through GraphQL."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.demo.catalogue import CHANNELS, PRODUCTS
from saleor_crm_plugin.feedback.requests import feedback_url, request_feedback
from saleor_crm_plugin.graphql.core.context import CRMContext
from saleor_crm_plugin.graphql.core.principal import Principal, PrincipalKind
from saleor_crm_plugin.graphql.schema import schema
from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.messaging import formatting
from saleor_crm_plugin.messaging import services as outbox
from saleor_crm_plugin.models import Feedback, Message, OrderRecord, PointsEntry, Profile
from saleor_crm_plugin.privacy.models import Source
from saleor_crm_plugin.privacy.services import grant_consent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Berlin
EUR = next(c for c in CHANNELS if c.slug == "channel-eur")
LENA = p.Person(7, "lena@example.de", "Lena", "Vogel", "DE", "DE", True, T0 - timedelta(days=90))


def order_id(number: int) -> str:
    return p.gid("Order", f"00000000-0000-4000-8000-{number:012d}")


def deliver_order(tenant, who: p.Person, number: int, status: str, at: datetime) -> None:
    """The order as Saleor sends it when it is placed (a day before ``at``), then at ``at``."""
    cart = p.Cart(f"c-{number}", EUR, who, [(PRODUCTS[0], 2, Decimal("24.50"))])
    uuid = f"00000000-0000-4000-8000-{number:012d}"
    for event, state, when in (
        ("order_created", "UNFULFILLED", at - timedelta(days=1)),
        (f"order_{'cancelled' if status == 'CANCELED' else 'fulfilled'}", status, at),
    ):
        order = p.OrderState(uuid, number, cart, created=at - timedelta(days=1), status=state)
        order.updated = when
        body = p.body("Order", when, p.principal(who), order=p.order(order))
        accept(tenant, event=event, body=body, headers={})
        drain()


def staff(tenant, query: str, **variables) -> dict:
    who = Principal(PrincipalKind.STAFF, tenant, "VXNlcjoyMQ==", "", frozenset({"MANAGE_USERS"}))
    result = schema.execute(query, variable_values=variables, context_value=CRMContext(who))
    assert not result.errors, result.errors
    return result.data


def links(text: str) -> dict[int, str]:
    found = re.findall(r"(https://crm\.nordwind\.example(/feedback/[^?\s]+)\?rating=(\d))", text)
    return {int(n): f"{path}?rating={n}" for _, path, n in found}


def test_a_fulfilled_order_gets_one_german_rating_email_and_a_low_rating_reaches_staff(
    tenant, smtp, settings
):
    settings.CRM_LOYALTY_FEEDBACK_BONUS = 25
    deliver_order(tenant, LENA, 301, "FULFILLED", T0 - timedelta(days=7, hours=1))
    lena = Profile.objects.get(email="lena@example.de")
    grant_consent(lena, "marketing_email", source=Source.CHECKOUT, wording_version="v1")

    assert request_feedback(tenant, T0 - timedelta(days=1)) == 0  # not a week yet
    assert request_feedback(tenant, T0) == 1
    assert request_feedback(tenant, T0 + timedelta(hours=1)) == 0  # the hourly task again
    assert outbox.send_due(T0) == 1
    [mail] = smtp.to("lena@example.de")
    assert str(mail["Subject"]) == "Wie war Ihre Bestellung #301?"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    order = OrderRecord.objects.get(order_id=order_id(301))
    assert formatting.money(order.total_gross_minor, "EUR", "de") in text
    assert "Vielen Dank für Ihren Einkauf bei Nordwind" in text
    assert "List-Unsubscribe" in mail  # marketing: the way out is in the mail
    rated = links(text)
    assert sorted(rated) == [1, 2, 3, 4, 5]
    assert all(f'href="https://crm.nordwind.example{url}"' in html for url in rated.values())

    browser = Client()
    shown = browser.get(rated[1])  # the click (or a mail scanner) only shows the page
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    page = shown.content.decode()
    assert 'value="1" checked>' in page and "Wie war Ihre Bestellung #301?" in page
    assert browser.head(rated[5]).status_code == 200
    assert not Feedback.objects.exists()

    comment = "Die Kanne kam zerbrochen an."
    for _ in range(2):  # a double click
        done = browser.post(rated[1], {"rating": "1", "comment": comment})
        assert done.status_code == 200
        assert "Vielen Dank für Ihre Bewertung!" in done.content.decode()
    [saved] = Feedback.objects.all()
    assert (saved.profile_id, saved.rating, saved.comment, saved.flagged) == (
        lena.pk,
        1,
        comment,
        True,
    )
    kinds = list(lena.timeline.filter(kind__startswith="crm.feedback.").values_list("kind", "data"))
    assert [k for k, _ in kinds] == ["crm.feedback.given", "crm.feedback.flagged"]
    assert kinds[0][1]["rating"] == 1 and kinds[0][1]["comment"] == comment

    flagged = staff(
        tenant,
        "query($f: CRMFeedbackFilterInput) { crmFeedback(filter: $f) { totalCount edges "
        "{ node { orderNumber rating comment flagged customerEmail } } } }",
        f={"flagged": True, "maxRating": 2},
    )["crmFeedback"]
    assert flagged["totalCount"] == 1
    assert flagged["edges"][0]["node"] == {
        "orderNumber": "301",
        "rating": 1,
        "comment": comment,
        "flagged": True,
        "customerEmail": "lena@example.de",
    }

    browser.post(rated[1], {"rating": "4", "comment": "Ersatz kam schnell."})  # changed mind
    saved.refresh_from_db()
    assert (saved.rating, saved.flagged, Feedback.objects.count()) == (4, False, 1)
    bonus = PointsEntry.objects.filter(source="feedback").values_list("source_id", "points")
    assert list(bonus) == [(f"order:{order_id(301)}", 25)]  # once, however often rated
    customer = staff(
        tenant,
        '{ crmCustomer(email: "lena@example.de") { feedback { count averageRating '
        "flaggedCount latest { rating comment } } } }",
    )["crmCustomer"]["feedback"]
    assert customer == {
        "count": 1,
        "averageRating": 4.0,
        "flaggedCount": 0,
        "latest": {"rating": 4, "comment": "Ersatz kam schnell."},
    }
    assert request_feedback(tenant, T0 + timedelta(days=1)) == 0
    assert Message.objects.filter(kind="post_purchase").count() == 1


def test_a_forged_or_expired_link_shows_an_error_and_saves_nothing(tenant, settings):
    settings.CRM_LOYALTY_FEEDBACK_BONUS = 25
    deliver_order(tenant, LENA, 302, "FULFILLED", T0)
    good = feedback_url(tenant.pk, order_id(302)).removeprefix(settings.CRM_PUBLIC_URL)
    token = good.rsplit("/", 1)[1]
    forged = good[: -len(token)] + token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    with mock.patch("time.time", return_value=time.time() - 61 * 86400):
        old = feedback_url(tenant.pk, order_id(302)).removeprefix(settings.CRM_PUBLIC_URL)
    other_store = feedback_url(tenant.pk + 1, order_id(302)).removeprefix(settings.CRM_PUBLIC_URL)
    browser = Client()
    for url in (forged, old, other_store):
        for answer in (browser.get(url + "?rating=5"), browser.post(url, {"rating": "5"})):
            assert answer.status_code == 400
            assert "This feedback link is invalid or has expired." in answer.content.decode()
    refused = browser.post(good, {"rating": "7", "comment": "Toll"})  # not a rating
    assert refused.status_code == 400
    assert "Bitte wählen Sie eine Bewertung von 1 bis 5." in refused.content.decode()
    assert "Toll" in refused.content.decode()  # what was typed is kept
    assert not Feedback.objects.exists()
    assert not PointsEntry.objects.filter(source="feedback").exists()


def test_only_orders_due_now_are_asked_and_only_those_who_may_be_emailed_get_it(
    tenant, smtp, settings
):
    kai = p.Person(8, "kai@example.de", "Kai", "Ost", "DE", "DE", True, T0 - timedelta(days=90))
    deliver_order(tenant, LENA, 303, "FULFILLED", T0 - timedelta(days=7, hours=2))  # no consent
    deliver_order(tenant, kai, 304, "CANCELED", T0 - timedelta(days=7, hours=2))
    deliver_order(tenant, kai, 305, "FULFILLED", T0 - timedelta(days=200))  # a backfill's
    deliver_order(tenant, kai, 306, "UNFULFILLED", T0 - timedelta(days=8))  # paid, not sent
    assert request_feedback(tenant, T0) == 1
    [message] = Message.objects.all()
    assert (message.dedupe_key, message.status, message.reason) == (
        f"post-purchase:{order_id(303)}",
        "skipped",
        "no_consent",
    )
    settings.CRM_POST_PURCHASE_UNFULFILLED_DAYS = 7  # a store that never marks fulfilment
    settings.CRM_POST_PURCHASE_PURPOSE = "transactional"
    assert request_feedback(tenant, T0) == 1
    assert outbox.send_due(T0) == 1
    [mail] = smtp.to("kai@example.de")
    assert "#306" in str(mail["Subject"]) and "List-Unsubscribe" not in mail


def test_a_signed_in_customer_rates_only_their_own_orders(tenant, settings):
    settings.CRM_LOYALTY_FEEDBACK_BONUS = 10
    deliver_order(tenant, LENA, 307, "FULFILLED", T0)
    mutation = (
        "mutation($o: ID!, $r: Int!) { crmFeedbackGive(orderId: $o, rating: $r, "
        'comment: "Schnell da") { rating flagged source } }'
    )

    def as_customer(user: str, order: str, rating: int):
        who = Principal(PrincipalKind.CUSTOMER, tenant, user, "")
        return schema.execute(
            mutation, variable_values={"o": order, "r": rating}, context_value=CRMContext(who)
        )

    mine = as_customer(p.gid("User", 7), order_id(307), 5)
    assert not mine.errors and mine.data["crmFeedbackGive"] == {
        "rating": 5,
        "flagged": False,
        "source": "storefront",
    }
    theirs = as_customer(p.gid("User", 9), order_id(307), 1)
    assert theirs.data["crmFeedbackGive"] is None
    assert theirs.errors[0].original_error.code == "unknown_order"
    bad = as_customer(p.gid("User", 7), order_id(307), 6)
    assert bad.errors and bad.data["crmFeedbackGive"] is None
    assert list(Feedback.objects.values_list("rating", flat=True)) == [5]
    assert PointsEntry.objects.filter(source="feedback").count() == 1

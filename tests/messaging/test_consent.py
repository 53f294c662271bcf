"""Double opt-in: the grant sends an e-mail with a link (the door at /consent/confirm/); only
confirming it makes consent count."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from django.core import signing
from django.test import Client

from saleor_crm_plugin.messaging import services
from saleor_crm_plugin.messaging.consent import ask_to_confirm
from saleor_crm_plugin.messaging.models import Message, Purpose
from saleor_crm_plugin.privacy.models import ConsentEntry, Source
from saleor_crm_plugin.privacy.services import grant_consent, has_consent, withdraw_consent
from tests.messaging.conftest import cart, make_profile

pytestmark = pytest.mark.django_db(transaction=True)

NOON_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


@pytest.fixture
def pending(tenant, smtp, settings):
    """Anna (Germany, double opt-in) ticked the box; the confirmation e-mail went out."""
    settings.CRM_DOUBLE_OPT_IN_COUNTRIES = "DE"
    anna = make_profile(tenant)
    entry = grant_consent(anna, "marketing_email", source=Source.CHECKOUT, wording_version="v3")
    ask_to_confirm(entry, now=NOON_BERLIN)
    assert services.send_due(NOON_BERLIN) == 1
    return anna


def confirm_path(smtp) -> str:
    [mail] = smtp.messages
    text = mail.get_body(("plain",)).get_content()
    return re.search(r"https://crm\.nordwind\.example(/consent/confirm/\S+)", text).group(1)


def test_the_confirmation_e_mail_arrives_in_german_and_the_link_confirms(pending, smtp):
    [mail] = smtp.messages
    assert str(mail["Subject"]).strip() == "Bitte bestätigen Sie Ihr Abonnement bei Nordwind"
    assert mail["List-Unsubscribe"] is None  # it is the customer's own request, not marketing
    path = confirm_path(smtp)
    assert has_consent(pending, "marketing_email") is False

    opened = Client().get(path)
    assert opened.status_code == 200
    assert "Abonnement bestätigen" in opened.content.decode()
    assert has_consent(pending, "marketing_email") is False  # opening the link is not consent

    confirmed = Client().post(path)
    assert confirmed.status_code == 200
    assert "Ihr Abonnement ist bestätigt. Vielen Dank!" in confirmed.content.decode()
    assert has_consent(pending, "marketing_email") is True
    assert Client().post(path).status_code == 200  # clicking again changes nothing
    assert ConsentEntry.objects.filter(action="confirm").count() == 1

    services.enqueue(
        pending,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key="checkout-1:step-1",
        data=cart(),
        now=NOON_BERLIN,
    )
    assert services.send_due(NOON_BERLIN) == 1
    assert len(smtp.messages) == 2


def test_without_confirmation_marketing_is_skipped(pending, smtp):
    message = services.enqueue(
        pending,
        "abandoned_checkout",
        purpose=Purpose.MARKETING,
        dedupe_key="checkout-1:step-1",
        data=cart(),
        now=NOON_BERLIN,
    )
    assert (message.status, message.reason) == ("skipped", "no_consent")


def test_a_link_clicked_after_withdrawing_does_not_confirm(pending, smtp):
    path = confirm_path(smtp)
    withdraw_consent(pending, "marketing_email", source=Source.ACCOUNT)
    response = Client().post(path)
    assert response.status_code == 400
    assert "Dieser Bestätigungslink ist ungültig oder abgelaufen." in response.content.decode()
    assert has_consent(pending, "marketing_email") is False


def test_an_expired_or_altered_link_gets_a_400_page(pending, smtp, settings):
    settings.CRM_CONFIRMATION_DAYS = 7

    class EightDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 8 * 24 * 3600)

    old = EightDaysAgo(salt="saleor_crm_plugin.confirm_consent").sign_object(
        [pending.tenant_id, pending.pk, "marketing_email", ""], compress=True
    )
    for path in (f"/consent/confirm/{old}", confirm_path(smtp)[:-4] + "AAAA"):
        response = Client().post(path)
        assert response.status_code == 400
        assert "This confirmation link is invalid or has expired." in response.content.decode()
    assert has_consent(pending, "marketing_email") is False


def test_a_grant_that_needs_no_confirmation_sends_no_e_mail(tenant, smtp):
    kenji = make_profile(tenant, email="kenji@example.jp", country="JP")
    entry = grant_consent(kenji, "marketing_email", source=Source.CHECKOUT)
    assert ask_to_confirm(entry, now=NOON_BERLIN) is None
    assert Message.objects.count() == 0

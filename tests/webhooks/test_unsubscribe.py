"""The unsubscribe link: GET asks and changes nothing, POST (one click) unsubscribes."""

from __future__ import annotations

import pytest
from django.test import Client

from saleor_crm_plugin.privacy.models import ConsentEntry, Source
from saleor_crm_plugin.privacy.services import grant_consent, has_consent
from saleor_crm_plugin.privacy.tokens import make_token
from tests.messaging.conftest import make_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(tenant, settings):
    settings.CRM_SHOP_NAME = "Nordwind"
    profile = make_profile(tenant)
    grant_consent(profile, "marketing_email", source=Source.CHECKOUT, wording_version="v1")
    return profile


def link(profile) -> str:
    token = make_token(profile.tenant_id, profile.pk, "marketing_email", "default-channel")
    return f"/unsubscribe/{token}"


def test_opening_the_link_asks_in_the_customers_language_and_changes_nothing(anna):
    response = Client().get(link(anna))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Möchten Sie keine Marketing-E-Mails von Nordwind mehr erhalten?" in page
    assert '<form method="post"' in page
    assert response["Cache-Control"] == "no-store"
    assert has_consent(anna, "marketing_email", "default-channel") is True
    assert ConsentEntry.objects.count() == 1


def test_the_one_click_post_of_a_mail_client_unsubscribes_without_login(anna):
    response = Client(enforce_csrf_checks=True).post(
        link(anna),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "Sie sind abgemeldet." in response.content.decode()
    assert has_consent(anna, "marketing_email", "default-channel") is False
    assert has_consent(anna, "marketing_email", "other-channel") is False
    withdrawal = ConsentEntry.objects.get(action="withdraw")
    assert (withdrawal.source, withdrawal.channel) == ("unsubscribe", "")
    assert anna.timeline.filter(kind="crm.consent.withdrawn").count() == 1


def test_pressing_the_button_twice_withdraws_once(anna):
    Client().post(link(anna))
    second = Client().post(link(anna))
    assert second.status_code == 200
    assert ConsentEntry.objects.filter(action="withdraw").count() == 1


def test_a_tampered_link_gets_a_clear_400_page_and_changes_nothing(anna):
    bad = link(anna)[:-3] + "xyz"
    for response in (Client().get(bad), Client().post(bad)):
        assert response.status_code == 400
        assert "This unsubscribe link is invalid or has been changed." in response.content.decode()
    assert has_consent(anna, "marketing_email", "default-channel") is True


def test_a_link_for_another_customer_id_cannot_be_made_by_editing_the_token(anna, tenant):
    other = make_profile(tenant, email="ben@example.de", first_name="Ben")
    grant_consent(other, "marketing_email", source=Source.CHECKOUT)
    token = link(anna).rsplit("/", 1)[1]
    payload, rest = token.split(":", 1)
    forged = f"/unsubscribe/{payload[:-2]}{'AB' if payload[-2:] != 'AB' else 'CD'}:{rest}"
    assert Client().post(forged).status_code == 400
    assert has_consent(other, "marketing_email") is True

"""The welcome e-mail: new accounts only, once, in the customer's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.messaging import services as outbox
from saleor_crm_plugin.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def sign_up(tenant, pk: int, email: str, joined) -> None:
    who = p.Person(pk, email, "Lena", "Vogel", "DE", "DE", True, joined, has_address=True)
    body = p.body("CustomerCreated", joined, None, user=p.user(who))
    accept(tenant, event="customer_created", body=body, headers={})
    drain()


def test_a_new_account_is_welcomed_once_in_its_language(tenant, smtp):
    now = timezone.now()
    sign_up(tenant, 1, "lena@example.de", now - timedelta(minutes=3))
    sign_up(tenant, 1, "lena@example.de", now - timedelta(minutes=3))  # delivered again
    assert Message.objects.filter(kind="welcome").count() == 1
    assert outbox.send_due(now + timedelta(minutes=1)) == 1
    [mail] = smtp.to("lena@example.de")
    assert "Willkommen" in str(mail["Subject"])


def test_accounts_opened_long_ago_are_not_welcomed_by_a_backfill(tenant, smtp, settings):
    sign_up(tenant, 2, "old@example.de", timezone.now() - timedelta(days=300))
    assert not Message.objects.exists()
    settings.CRM_WELCOME_WITHIN_HOURS = 0  # the merchant switched it off
    sign_up(tenant, 3, "new@example.de", timezone.now())
    assert not Message.objects.exists()

"""Feedback follows the person: folded into their account with them, gone when they are."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saleor_crm_plugin.demo import payloads as p
from saleor_crm_plugin.feedback.services import give_feedback
from saleor_crm_plugin.models import Feedback, Profile
from saleor_crm_plugin.profiles.identity import delete_customers, merge_guests_into_accounts
from tests.feedback.test_post_purchase import T0, deliver_order, order_id

pytestmark = pytest.mark.django_db

GUEST = p.Person(11, "mia@example.de", "Mia", "Brandt", "DE", "DE", False)


def test_a_guests_rating_moves_to_their_account_and_is_erased_with_it(tenant):
    deliver_order(tenant, GUEST, 320, "FULFILLED", T0)
    give_feedback(tenant, order_id(320), 2, "Zu spät", now=T0 + timedelta(days=8))
    account = Profile.objects.create(tenant=tenant, user_id="VXNlcjoxMQ==", email=GUEST.email)

    merge_guests_into_accounts(tenant.pk, [GUEST.email])
    assert list(Feedback.objects.values_list("profile_id", "rating")) == [(account.pk, 2)]
    assert account.timeline.filter(kind="crm.feedback.given").count() == 1

    delete_customers(tenant.pk, [("VXNlcjoxMQ==", GUEST.email, T0 + timedelta(days=9))])
    assert not Feedback.objects.exists()
    assert not Profile.objects.filter(email=GUEST.email).exists()

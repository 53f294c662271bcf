"""A campaign's rows follow a guest into their account, and go when a customer is deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from saleor_crm_plugin.campaigns import queries, services
from saleor_crm_plugin.campaigns.errors import CampaignError
from saleor_crm_plugin.campaigns.models import Campaign, CampaignMessage, CampaignRecipient
from saleor_crm_plugin.campaigns.release import release_due
from saleor_crm_plugin.campaigns.types import StepInput
from saleor_crm_plugin.messaging import services as outbox
from saleor_crm_plugin.models import Message, Profile, Segment
from saleor_crm_plugin.profiles.identity import delete_customers, merge_guests_into_accounts
from tests.campaigns.conftest import LAUNCH, STEP_TIMES, customers, segment, versions, warm_up
from tests.segments.store import place

pytestmark = pytest.mark.django_db

ANNA_USER = "VXNlcjo5"


def test_a_guest_joining_an_account_keeps_her_campaign_and_response(tenant, smtp):
    people = customers(tenant)
    first = STEP_TIMES[0]
    campaign = warm_up(
        tenant, segment(tenant), wave_size=None, steps=(StepInput(first, versions(1)),)
    )
    services.launch_campaign(tenant, campaign.pk, LAUNCH)
    release_due(first)
    assert outbox.send_due(first) == 4

    account = Profile.objects.create(
        tenant=tenant, email="anna@example.de", user_id=ANNA_USER, language="de", country="DE"
    )
    assert merge_guests_into_accounts(tenant.pk, ["anna@example.de"]) == {account.pk}
    assert not Profile.objects.filter(pk=people["anna"].pk).exists()
    assert CampaignRecipient.objects.filter(profile=account).count() == 1
    assert CampaignMessage.objects.get(profile=account).message.profile_id == account.pk
    place(tenant, "anna-1", "anna@example.de", 40, first + timedelta(days=1), user_id=ANNA_USER)
    assert queries.response(campaign)[0] == queries.Response(1, 1, 4000)


def test_a_deleted_customer_leaves_no_campaign_rows(tenant, smtp):
    customers(tenant)
    first = STEP_TIMES[0]
    campaign = warm_up(
        tenant, segment(tenant), wave_size=None, steps=(StepInput(first, versions(1)),)
    )
    services.launch_campaign(tenant, campaign.pk, LAUNCH)
    release_due(first)
    delete_customers(tenant.pk, [("VXNlcjoxMg==", "karl@example.at", first)])
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what the commit would check
    assert not Profile.objects.filter(email="karl@example.at").exists()
    assert CampaignRecipient.objects.count() == CampaignMessage.objects.count() == 4
    assert Message.objects.count() == 4
    assert queries.counts(campaign)[0].released == 4


def test_launching_to_nobody_or_twice_is_refused_and_changes_nothing(tenant):
    segment_id = segment(tenant)  # nobody lives in these countries yet
    campaign = warm_up(tenant, segment_id)
    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(tenant, campaign.pk, LAUNCH)
    assert refused.value.code == "EMPTY_AUDIENCE"
    assert Campaign.objects.get().status == "draft" and CampaignRecipient.objects.count() == 0

    Segment.objects.filter(pk=segment_id).delete()
    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(tenant, campaign.pk, LAUNCH)
    assert refused.value.code == "NO_SEGMENT"

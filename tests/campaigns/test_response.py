"""Orders within the attribution window after a campaign message count as its response."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saleor_crm_plugin.campaigns import queries, services
from saleor_crm_plugin.campaigns.release import release_due
from saleor_crm_plugin.campaigns.types import StepInput
from saleor_crm_plugin.messaging import services as outbox
from tests.campaigns.conftest import LAUNCH, STEP_TIMES, customers, segment, versions, warm_up
from tests.segments.store import place

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def test_orders_after_a_message_count_once_for_the_latest_step_within_the_window(tenant, smtp):
    customers(tenant)
    first, second = STEP_TIMES[0], STEP_TIMES[1]  # three days apart
    campaign = warm_up(
        tenant,
        segment(tenant),
        wave_size=None,
        steps=(StepInput(first, versions(1)), StepInput(second, versions(2))),
    )
    services.launch_campaign(tenant, campaign.pk, LAUNCH)
    release_due(first)
    assert outbox.send_due(first) == 4

    place(tenant, "karl-before", "karl@example.at", 70, first - DAY)  # before any message
    place(tenant, "anna-1", "anna@example.de", 40, first + DAY)  # step 1
    place(tenant, "anna-1", "anna@example.de", 40, first + DAY)  # the same order again
    place(tenant, "marie-1", "marie@example.fr", 25, first + 2 * DAY, status="CANCELED")
    place(tenant, "sam-1", "sam@example.com", 999, first + DAY)  # not a recipient
    place(tenant, "otto-1", "otto@example.de", 55, first + DAY)  # got nothing (no consent)

    response = queries.response(campaign)
    assert response[1] == queries.Response(responders=1, orders=1, revenue_minor=4000)
    assert 2 not in response

    release_due(second)
    assert outbox.send_due(second) == 4
    place(tenant, "anna-2", "anna@example.de", 60, second + timedelta(hours=5))  # step 2
    place(tenant, "yuki-1", "yuki@example.jp", 30, second + 4 * DAY)  # step 2, in the window
    place(tenant, "karl-late", "karl@example.at", 80, second + 6 * DAY)  # after 5 days

    response = queries.response(campaign)
    assert response[1] == queries.Response(responders=1, orders=1, revenue_minor=4000)
    assert response[2] == queries.Response(responders=2, orders=2, revenue_minor=9000)
    assert response[0] == queries.Response(responders=2, orders=3, revenue_minor=13000)


def test_the_attribution_window_is_a_setting(tenant, smtp, settings):
    customers(tenant)
    first = STEP_TIMES[0]
    campaign = warm_up(
        tenant, segment(tenant), wave_size=None, steps=(StepInput(first, versions(1)),)
    )
    services.launch_campaign(tenant, campaign.pk, LAUNCH)
    release_due(first)
    outbox.send_due(first)
    place(tenant, "anna-1", "anna@example.de", 40, first + 3 * DAY)
    assert queries.response(campaign)[0].orders == 1
    settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS = 2
    assert queries.response(campaign)[0] == queries.Response(0, 0, 0)

"""Without a broker, a background thread in the server applies deliveries in batches."""

from __future__ import annotations

import time

import pytest
import requests

from saleor_crm_plugin.inbox.dispatch import local_drainer
from saleor_crm_plugin.models import Delivery, Profile
from tests import recordings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def stop_the_drainer_afterwards():
    """A drainer left running would apply other tests' deliveries behind their backs."""
    yield
    local_drainer.stop()


def test_deliveries_are_applied_by_the_background_drainer(live_server, tenant, rates, settings):
    settings.CRM_INBOX_DISPATCH = "thread"
    for item in recordings.deliveries():
        response = requests.post(
            f"{live_server.url}/api/webhooks",
            data=item.body,
            headers=recordings.request_headers(item),
            timeout=10,
        )
        assert response.status_code == 200
    deadline = time.monotonic() + 60
    while Delivery.objects.filter(state="pending").exists() and time.monotonic() < deadline:
        local_drainer.idle.wait(1)
    assert not Delivery.objects.filter(state="pending").exists()
    assert Profile.objects.count() == 8
    anna = Profile.objects.get(email="anna.mueller@example.de")
    assert (anna.orders_count, anna.spent_gross_minor) == (2, 19660)

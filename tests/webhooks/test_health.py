import pytest
import requests

from saleor_crm_plugin.inbox.services import accept
from saleor_crm_plugin.models import Delivery
from tests import recordings

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_reports_the_inbox_lag(live_server, tenant):
    for seq in (1, 2):
        item = recordings.delivery(seq)
        accept(tenant, event=item.event, body=item.body, headers={})
    Delivery.objects.filter(event="customer_updated").update(state="failed")
    body = requests.get(f"{live_server.url}/health", timeout=5).json()
    assert body["database"] == "ok"
    assert body["broker"] == "not used"
    assert (body["inbox"]["pending"], body["inbox"]["failed"]) == (1, 1)
    assert body["inbox"]["oldest_pending_seconds"] >= 0


def test_health_names_an_unreachable_broker_but_stays_up(live_server, tenant, settings):
    from tests.inbox.test_worker import broker_at

    settings.CRM_INBOX_DISPATCH = "celery"
    with broker_at("redis://127.0.0.1:1/0"):
        response = requests.get(f"{live_server.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["broker"] == "unreachable"


def test_health_is_503_when_the_database_is_gone(live_server, tenant):
    from django.db import connections

    database = connections["default"].settings_dict
    original = database["PORT"]
    database["PORT"] = "1"  # nothing listens there
    connections.close_all()
    try:
        response = requests.get(f"{live_server.url}/health", timeout=10)
    finally:
        database["PORT"] = original
        connections.close_all()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"

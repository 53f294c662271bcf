import pytest

from saleor_crm_plugin.inbox.services import accept, drain
from saleor_crm_plugin.models import Profile
from saleor_crm_plugin.profiles.timezones import zone_for_country
from tests import recordings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("JP", "Asia/Tokyo"),
        ("DE", "Europe/Berlin"),
        ("US", "America/New_York"),
        ("BR", "America/Sao_Paulo"),
        ("AU", "Australia/Sydney"),
        ("KW", "Asia/Kuwait"),
        ("XX", ""),
    ],
)
def test_country_time_zones(country, zone):
    assert zone_for_country(country) == zone


def test_without_a_country_the_channel_time_zone_is_used(tenant, rates, settings):
    settings.CRM_CHANNEL_TIME_ZONES = {"channel-eur": "Europe/Rome"}
    for seq in (90, 91, 92):  # maria's guest checkouts in channel-eur, no address
        item = recordings.delivery(seq)
        accept(tenant, event=item.event, body=item.body, headers={})
    drain()
    maria = Profile.objects.get(email="maria.rossi@example.it")
    assert (maria.country, maria.time_zone) == ("", "Europe/Rome")


def test_an_unknown_channel_time_zone_is_refused_by_the_system_check(settings):
    from saleor_crm_plugin.checks import check_channel_time_zones

    settings.CRM_CHANNEL_TIME_ZONES = {"channel-eur": "Europe/Atlantis"}
    errors = check_channel_time_zones(None)
    assert [e.id for e in errors] == ["saleor_crm_plugin.E002"]

"""A badge stops being allowed at a station when it, or the station, leaves the authorization
group that allowed it there: the stations that accepted it may hold it in their cache and are
told to clear it, once the change is committed."""

import pytest

from ocpp_gateway.models import Command
from stations.models import ConnectionState
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
)
from tests.ocpp_gateway.test_services import accepted_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting():
    """A partner's two stations in a group of a fleet; the fleet's badge accepted at both."""
    fleet = CompanyFactory()
    leaving, staying = (
        StationFactory(connection_state=ConnectionState.CONNECTED) for _ in range(2)
    )
    group = AuthorizationGroupFactory(company=fleet)
    group.stations.set([leaving, staying])
    badge = BadgeFactory(company=fleet)
    badge.groups.set([group])
    for station in (leaving, staying):
        accepted_log(station, badge.rfid)
    return group, badge, leaving, staying


def cleared():
    return {
        (command.station, command.reason) for command in Command.objects.filter(action="ClearCache")
    }


def test_a_station_leaving_the_group_clears_its_cache_and_only_its(
    setting, django_capture_on_commit_callbacks
):
    group, badge, leaving, _staying = setting

    with django_capture_on_commit_callbacks(execute=True):
        group.stations.remove(leaving)

    assert cleared() == {
        (leaving, f"Badge {badge.rfid}: its group no longer includes this station.")
    }


def test_a_station_dropping_all_its_groups_clears_its_cache(
    setting, django_capture_on_commit_callbacks
):
    _group, _badge, leaving, _staying = setting

    with django_capture_on_commit_callbacks(execute=True):
        leaving.authorization_groups.clear()

    assert {station for station, _reason in cleared()} == {leaving}


def test_a_badge_leaving_its_group_is_cleared_from_the_groups_stations(
    setting, django_capture_on_commit_callbacks
):
    group, badge, leaving, staying = setting
    own = StationFactory(company=badge.company, connection_state=ConnectionState.CONNECTED)
    accepted_log(own, badge.rfid)  # still allowed there: its own company's station

    with django_capture_on_commit_callbacks(execute=True):
        badge.groups.remove(group)

    assert cleared() == {
        (leaving, f"Badge {badge.rfid}: left its group."),
        (staying, f"Badge {badge.rfid}: left its group."),
    }


def test_a_deleted_group_clears_its_stations_caches(setting, django_capture_on_commit_callbacks):
    group, _badge, leaving, staying = setting

    with django_capture_on_commit_callbacks(execute=True):
        group.delete()

    assert {station for station, _reason in cleared()} == {leaving, staying}


def test_a_disabled_badge_leaving_a_group_sends_nothing_more(
    setting, django_capture_on_commit_callbacks
):
    group, badge, leaving, _staying = setting
    badge.state = "disabled"
    with django_capture_on_commit_callbacks(execute=True):
        badge.save()  # its own revocation clears the caches once
    before = Command.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        group.stations.remove(leaving)

    assert Command.objects.count() == before

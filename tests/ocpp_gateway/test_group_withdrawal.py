"""A badge stops being allowed at a station when it, or the station, leaves the authorization
group that allowed it there: the stations that accepted it may hold it in their cache and are
told to clear it, once the change is committed."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from badges import access
from fleet import services as fleet_services
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
    group, badge, leaving, staying = setting

    with django_capture_on_commit_callbacks(execute=True):
        fleet_services.group_stations_set(group=group, stations=[staying])

    assert cleared() == {
        (leaving, f"Badge {badge.rfid}: its group no longer includes this station.")
    }


def test_a_badge_leaving_its_group_is_cleared_from_the_groups_stations(
    setting, django_capture_on_commit_callbacks
):
    _group, badge, leaving, staying = setting
    own = StationFactory(company=badge.company, connection_state=ConnectionState.CONNECTED)
    accepted_log(own, badge.rfid)  # still allowed there: its own company's station

    with django_capture_on_commit_callbacks(execute=True):
        access.badge_groups_set(badge=badge, groups=[])

    assert cleared() == {
        (leaving, f"Badge {badge.rfid}: left its group."),
        (staying, f"Badge {badge.rfid}: left its group."),
    }


def test_a_deleted_group_clears_its_stations_caches(setting, django_capture_on_commit_callbacks):
    group, _badge, leaving, staying = setting

    with django_capture_on_commit_callbacks(execute=True):
        fleet_services.group_delete(group=group)

    assert {station for station, _reason in cleared()} == {leaving, staying}


def test_a_disabled_badge_leaving_a_group_sends_nothing_more(
    setting, django_capture_on_commit_callbacks
):
    group, badge, _leaving, staying = setting
    badge.state = "disabled"
    with django_capture_on_commit_callbacks(execute=True):
        access.badge_save(badge=badge)  # its own revocation clears the caches once
    before = Command.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        fleet_services.group_stations_set(group=group, stations=[staying])

    assert Command.objects.count() == before


def test_the_admin_and_the_api_withdraw_through_the_same_service(
    setting, admin_client, django_capture_on_commit_callbacks
):
    """The admin's group form and the API's PATCH of a group's stations both clear the cache
    of the station they remove."""
    group, badge, leaving, staying = setting
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/fleet/authorizationgroup/{group.pk}/change/",
            {"name": group.name, "company": group.company_id, "stations": [staying.pk]},
        )
    assert response.status_code == 302
    assert cleared() == {
        (leaving, f"Badge {badge.rfid}: its group no longer includes this station.")
    }

    api = APIClient()
    api.force_authenticate(User.objects.get(username="admin"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/groups/{group.pk}/", {"stations": []}, format="json")
    assert response.status_code == 200, response.content
    assert {station for station, _reason in cleared()} == {leaving, staying}


def test_describing_a_group_tells_no_station(
    setting, admin_client, django_capture_on_commit_callbacks
):
    group, _badge, leaving, staying = setting
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/fleet/authorizationgroup/{group.pk}/change/",
            {
                "name": group.name,
                "company": group.company_id,
                "stations": [leaving.pk, staying.pk],
                "description": "Night depot",
            },
        )
    assert response.status_code == 302
    assert cleared() == set()

"""What a station's local authorization list should hold, and how it is recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from stations.models import ChargingSession
from stations.selectors import LocalListItem, local_list_held, local_list_wanted
from stations.services import station_note_local_list, station_record_local_list
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db


def charged_here(station, badge, *, hours_ago: int) -> None:
    ChargingSession.objects.create(
        station=station,
        connector_id=1,
        id_tag=badge.rfid,
        badge=badge,
        auth_method="autocharge",
        authorization_status="Accepted",
        authorization_reason="accepted",
        meter_start=0,
        started_at=timezone.now() - timedelta(hours=hours_ago),
    )


def test_the_list_holds_the_badges_permitted_here_with_their_expiry():
    station = StationFactory()
    expiry = timezone.now() + timedelta(days=30)
    own = BadgeFactory(rfid="VID:A014310E0001", company=station.company, expires_at=expiry)
    group = AuthorizationGroupFactory()
    group.stations.add(station)
    partner = BadgeFactory(rfid="VID:A014310E0002", company=group.company)
    partner.groups.add(group)
    BadgeFactory(company=station.company, state="disabled")
    BadgeFactory(company=station.company, expires_at=timezone.now() - timedelta(minutes=1))
    BadgeFactory(
        company=station.company, vehicle=VehicleFactory(company=station.company, active=False)
    )
    BadgeFactory(company=CompanyFactory())  # another company, no group here
    BadgeFactory(rfid="CARD-" + "9" * 20, company=station.company, mode="company", vehicle=None)

    wanted, left_out = local_list_wanted(station=station, limit=100)

    assert wanted == [
        LocalListItem(id_tag=own.rfid, expires_at=expiry),
        LocalListItem(id_tag=partner.rfid),
    ]
    assert left_out == 0


def test_a_list_too_long_keeps_the_badges_that_charged_here_last():
    station = StationFactory()
    badges = [
        BadgeFactory(rfid=f"VID:A014310E000{n}", company=station.company) for n in range(1, 5)
    ]
    charged_here(station, badges[3], hours_ago=1)
    charged_here(station, badges[2], hours_ago=5)

    wanted, left_out = local_list_wanted(station=station, limit=3)

    assert [item.id_tag for item in wanted] == [badges[3].rfid, badges[2].rfid, badges[0].rfid]
    assert left_out == 1


def test_a_differential_update_changes_only_its_tags_and_a_full_one_replaces_all():
    station = StationFactory()
    station_record_local_list(
        station=station,
        version=1,
        full=True,
        entries=[LocalListItem("VID:A014310E0001"), LocalListItem("VID:A014310E0002")],
    )
    station_record_local_list(
        station=station,
        version=2,
        full=False,
        entries=[LocalListItem("VID:A014310E0003", status="Blocked")],
        removed=["VID:A014310E0001"],
    )

    assert local_list_held(station=station) == {
        "VID:A014310E0002": LocalListItem("VID:A014310E0002"),
        "VID:A014310E0003": LocalListItem("VID:A014310E0003", status="Blocked"),
    }
    station.refresh_from_db()
    assert station.local_list_version == 2 and station.local_list_synced_at is not None

    station_record_local_list(
        station=station, version=3, full=True, entries=[LocalListItem("VID:A014310E0009")]
    )
    assert list(local_list_held(station=station)) == ["VID:A014310E0009"]


def test_a_list_the_station_lost_track_of_is_forgotten():
    station = StationFactory(local_list_version=4)

    station_note_local_list(station=station, detail="SendLocalList: VersionMismatch", forget=True)

    station.refresh_from_db()
    assert (station.local_list_version, station.local_list_detail) == (
        0,
        "SendLocalList: VersionMismatch",
    )

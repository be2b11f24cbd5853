"""An archived company's badges, an archived badge or vehicle stop charging; an archived
station is refused connection."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from badges import access
from badges.authorization import AuthorizationStatus, Reason, authorize
from fleet.services import company_save, vehicle_save
from stations.selectors import local_list_wanted
from stations.services import station_save
from supervision import archiving
from supervision.asgi import application
from tests.factories import StationFactory


@pytest.mark.django_db
def test_an_archived_companys_badges_are_refused_and_leave_local_lists(
    depot, django_capture_on_commit_callbacks
):
    before = authorize(id_tag=depot.beta_badge.rfid, station=depot.station)
    with django_capture_on_commit_callbacks(execute=True):
        archiving.archive(instance=depot.beta, save=lambda company: company_save(company=company))

    after = authorize(id_tag=depot.beta_badge.rfid, station=depot.station)

    assert before.accepted
    assert (after.status, after.reason) == (AuthorizationStatus.BLOCKED, Reason.COMPANY_ARCHIVED)
    wanted, _more = local_list_wanted(station=depot.station, limit=100)
    assert [item.id_tag for item in wanted] == [depot.alpha_badge.rfid]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("archived", "reason"),
    [("badge", Reason.BADGE_DISABLED), ("vehicle", Reason.VEHICLE_INACTIVE)],
)
def test_an_archived_badge_or_vehicle_is_refused(
    depot, django_capture_on_commit_callbacks, archived, reason
):
    badge = depot.alpha_badge
    with django_capture_on_commit_callbacks(execute=True):
        if archived == "badge":
            archiving.archive(instance=badge, save=lambda badge: access.badge_save(badge=badge))
        else:
            archiving.archive(
                instance=badge.vehicle, save=lambda vehicle: vehicle_save(vehicle=vehicle)
            )

    decision = authorize(id_tag=badge.rfid, station=depot.station)

    assert decision.reason == reason


@database_sync_to_async
def _stations(*, archived: str, kept: str) -> None:
    archiving.archive(
        instance=StationFactory(charge_point_id=archived),
        save=lambda station: station_save(station=station),
    )
    StationFactory(charge_point_id=kept)


async def _connects(charge_point_id: str) -> bool:
    communicator = WebsocketCommunicator(
        application, f"/ocpp/{charge_point_id}", subprotocols=["ocpp1.6"]
    )
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
async def test_an_archived_station_is_refused_connection():
    await _stations(archived="CP-ARCHIVED", kept="CP-KEPT")

    assert await _connects("CP-ARCHIVED") is False
    assert await _connects("CP-KEPT") is True

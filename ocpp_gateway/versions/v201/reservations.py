"""Block H, reservations: the station tells that a reservation ended without being used
(ReservationStatusUpdate). ReserveNow and CancelReservation go out as commands
(``ocpp_gateway.operations.reservations``)."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from stations.reservations import reservation_ended_by_station


class ReservationHandlers:
    @on(Action.reservation_status_update)
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str, **_
    ):
        # H05 (Expired: its time ran out unused) and TC_H_20 (Removed: e.g. its EVSE faulted).
        # An id we do not know changes nothing; the answer is empty either way.
        await database_sync_to_async(reservation_ended_by_station)(
            station=self.station,
            reservation_id=reservation_id,
            update=reservation_update_status,
        )
        return call_result.ReservationStatusUpdate()

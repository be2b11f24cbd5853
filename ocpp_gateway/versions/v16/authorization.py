"""Core profile, authorization: Authorize. The decision and what follows from it (pairing,
the unknown-vehicle inbox, security events) live in badges."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from badges.authorization_cache import cache
from ocpp_gateway.versions.v16.conversions import id_tag_info
from stations.enrolment import authorization_request


class AuthorizationHandlers:
    @on(Action.authorize)
    async def on_authorize(self, id_tag: str, **_):
        # A tag accepted here a moment ago is answered from memory; anything else (a refusal
        # is recorded: inbox, pairing, security events) by the database.
        decision = cache.decision(id_tag=id_tag, station_id=self.station.pk)
        if decision is None:
            station = await self.current_station()
            decision = await database_sync_to_async(authorization_request)(
                id_tag=id_tag, station=station, log_entry_id=self.logged_connection.request_id
            )
        self.record_decision(decision)
        return call_result.Authorize(id_tag_info=id_tag_info(decision))

"""Block C, authorization: Authorize. The decision and what follows from it (pairing, the
unknown-vehicle inbox, security events) live in badges, as for 1.6; only the token's shape and
the statuses' words are 2.0.1's."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from badges.authorization_cache import cache
from ocpp_gateway.versions.v201.conversions import authorization_status, id_tag_of, id_token_info
from stations.enrolment import authorization_request


class AuthorizationHandlers:
    @on(Action.authorize)
    async def on_authorize(self, id_token: dict, **_):
        id_tag, supported = id_tag_of(id_token)
        # As in 1.6: a token accepted here a moment ago is answered from memory; anything else
        # (a refusal is recorded: inbox, pairing, security events) by the database.
        decision = cache.decision(id_tag=id_tag, station_id=self.station.pk) if supported else None
        if decision is None:
            decision = await database_sync_to_async(authorization_request)(
                id_tag=id_tag,
                station=await self.current_station(),
                log_entry_id=self.logged_connection.request_id,
                identifier_unsupported=not supported,
            )
        self.record_decision(decision, ocpp_status=authorization_status(decision))
        return call_result.Authorize(id_token_info=id_token_info(decision))

"""Block C, authorization: Authorize. The decision and what follows from it (pairing, the
unknown-vehicle inbox, security events) live in badges and stations, as for 1.6; only the
token's shape and the statuses' words are 2.0.1's."""

from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from ocpp_gateway.versions.v201.conversions import authorization_status, id_tag_of, id_token_info


class AuthorizationHandlers:
    @on(Action.authorize)
    async def on_authorize(self, id_token: dict, **_):
        id_tag, supported = id_tag_of(id_token)
        decision = await self.authorize(id_tag, identifier_unsupported=not supported)
        self.record_decision(decision, ocpp_status=authorization_status(decision))
        return call_result.Authorize(id_token_info=id_token_info(decision))

"""Core profile, authorization: Authorize. The decision and what follows from it (pairing,
the unknown-vehicle inbox, security events) live in badges and stations."""

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from ocpp_gateway.versions.v16.conversions import id_tag_info


class AuthorizationHandlers:
    @on(Action.authorize)
    async def on_authorize(self, id_tag: str, **_):
        decision = await self.authorize(id_tag)
        self.record_decision(decision)
        return call_result.Authorize(id_tag_info=id_tag_info(decision))

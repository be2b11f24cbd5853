"""The portal's live channel, ``/ws/portal/``: a browser page signed in as staff hears the
events (``supervision.live``) of the company it may see, or of every company for a
superuser. It only listens; what it shows, the page reads from the server."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from supervision import live, tenancy


def _groups_of(user) -> list[str]:
    if tenancy.is_superuser(user):
        return [live.ALL_COMPANIES_GROUP]
    company = tenancy.company_of(user)
    return [] if company is None else [live.company_group(company.pk)]


class PortalConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str] = []

    async def connect(self) -> None:
        self.groups_joined = await database_sync_to_async(_groups_of)(self.scope["user"])
        if not self.groups_joined:
            await self.close()  # before accepting: the handshake is refused (403)
            return
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def portal_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

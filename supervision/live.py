"""Live events for the portal: small facts, sent through the channel layer once committed, to
the browsers showing the company concerned (and to superusers').

The services that record the facts publish them; ``portal.consumers`` subscribes browsers to
the groups named here. An event carries what its line in the activity feed says; the page then
reads its figures again from the server, scoped to whoever looks, so an event never has to be
complete and never shows another company more than the tenancy rules do.
"""

from __future__ import annotations

from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

ALL_COMPANIES_GROUP = "portal.all"


def company_group(company_id: int) -> str:
    return f"portal.company.{company_id}"


def publish(kind: str, *, company_id: int | None, **data: str | int | None) -> None:
    """Tell the browsers of ``company_id`` and superusers that ``kind`` happened, after the
    current transaction commits (at once outside one)."""
    groups = [ALL_COMPANIES_GROUP]
    if company_id is not None:
        groups.append(company_group(company_id))
    message = {"type": "portal.event", "event": {"kind": kind, **data}}
    # robust: a channel layer that is down must not fail what the station told us.
    transaction.on_commit(lambda: _send(groups, message), robust=True)


def _send(groups: Iterable[str], message: dict) -> None:
    layer = get_channel_layer()
    for group in groups:
        async_to_sync(layer.group_send)(group, message)

"""Commands to stations: validated against OCPP 1.6's schemas, recorded, and delivered through
the channel layer to whichever server process holds the station's WebSocket.

Staff (admin, REST) and the supervision's own procedures call ``command_send``. The consumer
holding the station claims the command (``pending`` → ``sent``), makes the call and stores the
outcome with ``command_finish``. Every transition is conditional on the state it leaves, so a
command is run once even if two processes see it, and a late answer cannot overwrite a
``failed`` or ``timeout``.
"""

from __future__ import annotations

import decimal
import json
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone
from jsonschema.exceptions import best_match
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.messages import MessageType, get_validator

from ocpp_gateway.models import Command, CommandAction, CommandOrigin, CommandState
from stations.models import ConnectionState, Station

OCPP_VERSION = "1.6"

# An answer's status that means the station will do it. Scheduled (after the running
# transaction) and RebootRequired (after a reboot) are promises too; the status is kept.
_SUCCESS_STATUSES = {
    CommandAction.UNLOCK_CONNECTOR: {"Unlocked"},
    CommandAction.CHANGE_AVAILABILITY: {"Accepted", "Scheduled"},
    CommandAction.CHANGE_CONFIGURATION: {"Accepted", "RebootRequired"},
}
_ACCEPTED = {"Accepted"}
# RemoteStartTransaction's charging profile has decimals the schema checks to one digit.
_DECIMAL_ACTIONS = {CommandAction.REMOTE_START_TRANSACTION}


class CommandInvalid(ValueError):
    """The action is not one we send, or the payload fails its OCPP 1.6 schema."""

    def __init__(self, message: str, *, field: str = "payload") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StationNotConnected(Exception):
    """The station has no WebSocket open to the supervision: nothing can reach it."""

    def __init__(self, station: Station, command: Command | None = None) -> None:
        super().__init__(f"{station.charge_point_id} is not connected.")
        self.station = station
        self.command = command


def station_group(station_id: int) -> str:
    """The channel-layer group of a station's connection: by primary key, because charge
    point ids are free text (group names allow only a few characters)."""
    return f"station.{station_id}"


def notify_station(station_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to the station's connection once the current transaction commits, so
    the consumer finds what it is told about."""
    group = station_group(station_id)
    transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, message))


def is_success(action: str, status: str | None) -> bool:
    """Whether an answer means the station will do it (no status: it answered, it did)."""
    return status is None or status in _SUCCESS_STATUSES.get(action, _ACCEPTED)


def validate_command(*, action: str, payload: Any) -> dict[str, Any]:
    """The payload, checked against the OCPP 1.6 request schema of ``action``; raises
    CommandInvalid with the schema's message."""
    if action not in CommandAction.values:
        raise CommandInvalid(
            f"Unknown action {action!r}; one of: {', '.join(CommandAction.values)}.",
            field="action",
        )
    payload = {} if payload is None else payload
    if not isinstance(payload, dict):
        raise CommandInvalid("The payload must be a JSON object.")
    document = payload
    parse_float = float
    if action in _DECIMAL_ACTIONS:
        parse_float = decimal.Decimal
        document = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    validator = get_validator(MessageType.Call, action, OCPP_VERSION, parse_float=parse_float)
    error = best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        raise CommandInvalid(f"{error.message} (at {where})" if where else error.message)
    for key in payload:
        # The ocpp library takes snake_case arguments and sends camelCase: every key of the
        # 1.6 schemas survives the round trip, anything else would be sent misspelt.
        if snake_to_camel_case(camel_to_snake_case({key: None})) != {key: None}:
            raise CommandInvalid(f"{key!r} cannot be sent as it is spelt.")
    return payload


def _is_connected(station: Station) -> bool:
    state = Station.objects.filter(pk=station.pk).values_list("connection_state", flat=True)
    return state.first() == ConnectionState.CONNECTED


def command_send(
    *,
    station: Station,
    action: str,
    payload: dict[str, Any] | None,
    requested_by=None,
    origin: CommandOrigin = CommandOrigin.STAFF,
    reason: str = "",
) -> Command:
    """Record a command and have the station's connection send it.

    Raises CommandInvalid (nothing recorded) for a bad action or payload, and
    StationNotConnected when the station is not connected: that command is recorded
    ``failed``, so the attempt shows in the station's history.
    """
    payload = validate_command(action=action, payload=payload)
    fields = {
        "station": station,
        "action": action,
        "payload": payload,
        "requested_by": requested_by,
        "origin": origin,
        "reason": reason,
    }
    if not _is_connected(station):
        command = Command.objects.create(
            **fields,
            state=CommandState.FAILED,
            detail=f"{station.charge_point_id} is not connected.",
            completed_at=timezone.now(),
        )
        raise StationNotConnected(station, command)
    with transaction.atomic():
        command = Command.objects.create(**fields)
        notify_station(station.pk, {"type": "station.command", "command": command.pk})
    return command


def command_record(
    *,
    station: Station,
    action: str,
    payload: dict[str, Any],
    origin: CommandOrigin,
    requested_by_id: int | None = None,
    reason: str = "",
) -> Command:
    """A command the connection itself runs now (a step of a procedure): no delivery."""
    return Command.objects.create(
        station=station,
        action=action,
        payload=validate_command(action=action, payload=payload),
        origin=origin,
        requested_by_id=requested_by_id,
        reason=reason,
    )


def command_claim(*, command_id: int, unique_id: str) -> Command | None:
    """``pending`` → ``sent``, by the connection about to send it; None if it is not pending
    any more (another process took it, or it was failed meanwhile)."""
    claimed = Command.objects.filter(pk=command_id, state=CommandState.PENDING).update(
        state=CommandState.SENT, unique_id=unique_id, sent_at=timezone.now()
    )
    if not claimed:
        return None
    return Command.objects.select_related("station").get(pk=command_id)


def command_finish(
    *,
    command: Command,
    state: CommandState,
    response: Any = None,
    ocpp_status: str = "",
    detail: str = "",
) -> bool:
    """``sent`` → the outcome. False if the command had already been failed meanwhile."""
    now = timezone.now()
    finished = Command.objects.filter(pk=command.pk, state=CommandState.SENT).update(
        state=state,
        response=response,
        ocpp_status=ocpp_status[:64],
        detail=detail,
        completed_at=now,
    )
    if finished:
        command.state, command.response, command.ocpp_status = state, response, ocpp_status[:64]
        command.detail, command.completed_at = detail, now
    return bool(finished)


def commands_fail(*, command_ids: list[int], detail: str) -> int:
    """Fail these commands if they are still pending or sent (the station went away)."""
    return (
        Command.objects.unfinished()
        .filter(pk__in=command_ids)
        .update(state=CommandState.FAILED, detail=detail, completed_at=timezone.now())
    )


def commands_fail_orphaned(*, station: Station, before: datetime, detail: str) -> int:
    """Fail the station's unfinished commands from before a new connection: the connection
    they were sent to is gone, and its answers with it."""
    return (
        Command.objects.unfinished()
        .filter(station=station, created_at__lt=before)
        .update(state=CommandState.FAILED, detail=detail, completed_at=timezone.now())
    )


def commands_fail_stale(*, older_than: timedelta) -> int:
    """Fail commands pending for longer than any connection would keep them queued: the
    process that held the station died without a disconnect."""
    return Command.objects.filter(
        state=CommandState.PENDING, created_at__lt=timezone.now() - older_than
    ).update(
        state=CommandState.FAILED,
        detail="No server process took the command: the station's connection was lost.",
        completed_at=timezone.now(),
    )

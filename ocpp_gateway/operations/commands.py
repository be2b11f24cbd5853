"""Commands to stations: validated against the schemas of the station's protocol (OCPP 1.6 or
2.0.1: each has its own actions), recorded, and delivered through the channel layer to
whichever server process holds the station's WebSocket.

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
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from jsonschema.exceptions import best_match
from ocpp.messages import MessageType, get_validator

from ocpp_gateway.models import Command, CommandAction, CommandOrigin, CommandState
from ocpp_gateway.transport.message_log import (
    AUTHORIZATION_KEY,
    PASSWORD_COMPONENT,
    PASSWORD_VARIABLE,
    REDACTED,
    is_authorization_key_change,
    password_of,
    redact_request,
    with_password,
)
from ocpp_gateway.transport.server_processes import holder_alive
from ocpp_gateway.upstream import camel_case_key, snake_case_key
from stations.models import ConnectionState, OcppVersion, Station
from supervision import compiled, stored_text
from supervision.compiled import Param

# The calls each protocol's stations take.
ACTIONS: dict[str, list[CommandAction]] = {
    OcppVersion.V16: [
        CommandAction.GET_CONFIGURATION,
        CommandAction.CHANGE_CONFIGURATION,
        CommandAction.CLEAR_CACHE,
        CommandAction.RESET,
        CommandAction.TRIGGER_MESSAGE,
        CommandAction.REMOTE_START_TRANSACTION,
        CommandAction.REMOTE_STOP_TRANSACTION,
        CommandAction.UNLOCK_CONNECTOR,
        CommandAction.CHANGE_AVAILABILITY,
        CommandAction.SEND_LOCAL_LIST,
        CommandAction.GET_LOCAL_LIST_VERSION,
        CommandAction.DATA_TRANSFER,
        # sites: smart charging
        CommandAction.SET_CHARGING_PROFILE,
        CommandAction.CLEAR_CHARGING_PROFILE,
        CommandAction.GET_COMPOSITE_SCHEDULE,
        # Reservations
        CommandAction.RESERVE_NOW,
        CommandAction.CANCEL_RESERVATION,
        # firmware and diagnostics (issue #17)
        CommandAction.UPDATE_FIRMWARE,
        CommandAction.GET_DIAGNOSTICS,
    ],
    OcppVersion.V201: [
        CommandAction.GET_VARIABLES,
        CommandAction.SET_VARIABLES,
        CommandAction.GET_BASE_REPORT,
        CommandAction.RESET,
        CommandAction.REQUEST_START_TRANSACTION,
        CommandAction.REQUEST_STOP_TRANSACTION,
        CommandAction.GET_TRANSACTION_STATUS,
        CommandAction.UNLOCK_CONNECTOR,
        CommandAction.TRIGGER_MESSAGE,
        CommandAction.CLEAR_CACHE,
        CommandAction.SEND_LOCAL_LIST,
        CommandAction.GET_LOCAL_LIST_VERSION,
        CommandAction.CHANGE_AVAILABILITY,
        CommandAction.DATA_TRANSFER,
        # sites: smart charging (block K)
        CommandAction.SET_CHARGING_PROFILE,
        CommandAction.CLEAR_CHARGING_PROFILE,
        CommandAction.GET_CHARGING_PROFILES,
        CommandAction.GET_COMPOSITE_SCHEDULE,
        # Reservations
        CommandAction.RESERVE_NOW,
        CommandAction.CANCEL_RESERVATION,
        # firmware and diagnostics (issue #17)
        CommandAction.UPDATE_FIRMWARE,
        CommandAction.GET_LOG,
    ],
}

# An answer's status that means the station will do it. Scheduled (after the running
# transaction) and RebootRequired (after a reboot) are promises too; the status is kept.
_SUCCESS_STATUSES = {
    CommandAction.UNLOCK_CONNECTOR: {"Unlocked"},
    CommandAction.CHANGE_AVAILABILITY: {"Accepted", "Scheduled"},
    CommandAction.CHANGE_CONFIGURATION: {"Accepted", "RebootRequired"},
    CommandAction.SET_VARIABLES: {"Accepted", "RebootRequired"},
    CommandAction.RESET: {"Accepted", "Scheduled"},  # 2.0.1: after the running transaction
    # 2.0.1: accepted, cancelling the update or upload under way (L01.FR.24, N01.FR.12).
    CommandAction.UPDATE_FIRMWARE: {"Accepted", "AcceptedCanceled"},
    CommandAction.GET_LOG: {"Accepted", "AcceptedCanceled"},
}
_ACCEPTED = {"Accepted"}
# Charging profiles (RemoteStartTransaction's, SetChargingProfile's) have decimals the schema
# checks to one digit.
_DECIMAL_ACTIONS = {CommandAction.REMOTE_START_TRANSACTION, CommandAction.SET_CHARGING_PROFILE}


class CommandInvalid(ValueError):
    """The action is not one the station takes, or the payload fails its schema."""

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
    the consumer finds what it is told about. The message names the station: the process
    holding it hands it to that station's connection (``local_stations``)."""
    group, message = station_group(station_id), {**message, "station": station_id}
    # robust: with the channel layer down the command stays pending in the database, where the
    # connection's process finds it (``commands_undelivered``); the request still succeeds.
    transaction.on_commit(
        lambda: async_to_sync(get_channel_layer().group_send)(group, message), robust=True
    )


def answer_status(action: str, response: Any) -> str | None:
    """The status an answer carries. SetVariables answers one per variable: the first that is
    not a success, else RebootRequired if any, else Accepted."""
    if not isinstance(response, dict):
        return None
    if action != CommandAction.SET_VARIABLES:
        return response.get("status")
    statuses = [item.get("attributeStatus") for item in response.get("setVariableResult", [])]
    wanted = _SUCCESS_STATUSES[CommandAction.SET_VARIABLES]
    refused = [status for status in statuses if status not in wanted]
    if refused:
        return refused[0]
    return "RebootRequired" if "RebootRequired" in statuses else "Accepted"


def is_success(action: str, status: str | None) -> bool:
    """Whether an answer means the station will do it (no status: it answered, it did)."""
    return status is None or status in _SUCCESS_STATUSES.get(action, _ACCEPTED)


def protocol_of(station: Station) -> str:
    """The station's protocol; 1.6 for one that never connected."""
    return station.ocpp_version or OcppVersion.V16


def configuration_read_command(station: Station) -> tuple[CommandAction, dict[str, Any]]:
    """Read the station's whole configuration: GetConfiguration (1.6), or a report of the
    device model's configurable variables (2.0.1: the station answers with NotifyReports)."""
    if protocol_of(station) == OcppVersion.V201:
        request_id = int(timezone.now().timestamp())  # names the report the station sends
        return CommandAction.GET_BASE_REPORT, {
            "requestId": request_id,
            "reportBase": "ConfigurationInventory",
        }
    return CommandAction.GET_CONFIGURATION, {}


def reset_command(station: Station, *, hard: bool) -> tuple[CommandAction, dict[str, Any]]:
    """Reset now (hard; 2.0.1: Immediate) or gently (soft; 2.0.1: once idle)."""
    if protocol_of(station) == OcppVersion.V201:
        return CommandAction.RESET, {"type": "Immediate" if hard else "OnIdle"}
    return CommandAction.RESET, {"type": "Hard" if hard else "Soft"}


def validate_command(
    *, action: str, payload: Any, version: str = OcppVersion.V16
) -> dict[str, Any]:
    """The payload, checked against the request schema of ``action`` in OCPP ``version``;
    raises CommandInvalid with the schema's message, or for an action of another version."""
    if action not in ACTIONS[version]:
        raise CommandInvalid(
            f"{action!r} is not an OCPP {version} command; one of: {', '.join(ACTIONS[version])}.",
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
    validator = get_validator(MessageType.Call, action, version, parse_float=parse_float)
    error = best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        raise CommandInvalid(f"{error.message} (at {where})" if where else error.message)
    for key in payload:
        # The ocpp library takes snake_case arguments and sends camelCase: every key of the
        # schemas survives the round trip, anything else would be sent misspelt.
        if camel_case_key(snake_case_key(key)) != key:
            raise CommandInvalid(f"{key!r} cannot be sent as it is spelt.")
    return payload


# --- The station's password, pushed to it, never stored ------------------------------------
#
# A ChangeConfiguration of AuthorizationKey (1.6) or a SetVariables of
# SecurityCtrlr.BasicAuthPassword (2.0.1) is recorded with its value REDACTED; the value waits
# in the cache until the connection claims the command (command_claim), then lives only in that
# process's memory until it is sent. The cache reaches exactly as far as the channel layer: the
# process's own memory in the embedded setup, Redis (with an expiry) when REDIS_URL is set.
# Expired or lost, the command fails rather than send the placeholder.
_SECRET_TIMEOUT = timedelta(minutes=15)
# OCPP 1.6 security whitepaper: AuthorizationKey is 16 to 20 bytes, sent as hexadecimal (at
# most 40 hex digits); the station decodes it and sends those bytes as its HTTP Basic password
# (the OCTT's TC_085_CS checks the non-hex form in the header).
AUTHORIZATION_KEY_MAX_BYTES = 20


def _secret_cache_key(command_id: int) -> str:
    return f"ocpp_gateway:command-secret:{command_id}"


def _withhold_secret(command: Command, payload: dict[str, Any]) -> None:
    """Keep the password a command sets for the connection, once the command is committed
    (before the connection is told about it)."""
    if not is_authorization_key_change(command.action, payload):
        return
    key, value = _secret_cache_key(command.pk), password_of(command.action, payload)
    transaction.on_commit(lambda: cache.set(key, value, timeout=_SECRET_TIMEOUT.total_seconds()))


def authorization_key_check(password: str) -> None:
    """Raise CommandInvalid (on ``basic_auth_password``) unless the station can be sent this
    password as its AuthorizationKey."""
    size = len(password.encode())
    if size > AUTHORIZATION_KEY_MAX_BYTES:
        raise CommandInvalid(
            gettext(
                "A password sent to a station as its AuthorizationKey may have at most "
                "%(max)d characters (OCPP 1.6: 16 to 20 bytes); this one has %(count)d."
            )
            % {"max": AUTHORIZATION_KEY_MAX_BYTES, "count": size},
            field="basic_auth_password",
        )


def password_check(*, station: Station | None, password: str) -> None:
    """Raise CommandInvalid (on ``basic_auth_password``) unless the station can be sent this
    password: OCPP 2.0.1 takes every valid station password, 1.6 at most 20 bytes."""
    if station is None or protocol_of(station) == OcppVersion.V16:
        authorization_key_check(password)


def password_command(*, station: Station, password: str) -> tuple[CommandAction, dict[str, Any]]:
    """The command giving the station ``password`` for HTTP Basic authentication: OCPP 1.6
    ChangeConfiguration of AuthorizationKey (the password's bytes in hexadecimal, as the 1.6
    security whitepaper wants), OCPP 2.0.1 SetVariables of SecurityCtrlr.BasicAuthPassword
    (the password itself, A01)."""
    if protocol_of(station) == OcppVersion.V201:
        return CommandAction.SET_VARIABLES, {
            "setVariableData": [
                {
                    "attributeValue": password,
                    "component": {"name": PASSWORD_COMPONENT},
                    "variable": {"name": PASSWORD_VARIABLE},
                }
            ]
        }
    authorization_key_check(password)
    return CommandAction.CHANGE_CONFIGURATION, {
        "key": AUTHORIZATION_KEY,
        "value": password.encode().hex(),
    }


def _is_connected(station: Station) -> bool:
    """Connected, by a process that is alive (one that died is found within
    ``OCPP_PROCESS_DEAD_AFTER_SECONDS``; its stations are not waited for meanwhile)."""
    row = Station.objects.filter(pk=station.pk).values("connection_state", "server_process")
    state = row.first()
    return (
        state is not None
        and state["connection_state"] == ConnectionState.CONNECTED
        and holder_alive(state["server_process"])
    )


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
    payload = validate_command(action=action, payload=payload, version=protocol_of(station))
    fields = {
        "station": station,
        "action": action,
        "payload": redact_request(action, payload),
        "requested_by": requested_by,
        "origin": origin,
        "reason": reason,
    }
    if not _is_connected(station):
        command = Command.objects.create(
            **fields,
            state=CommandState.FAILED,
            detail=stored_text.NOT_CONNECTED % {"station": station.charge_point_id},
            completed_at=timezone.now(),
        )
        raise StationNotConnected(station, command)
    with transaction.atomic():
        command = Command.objects.create(**fields)
        _withhold_secret(command, payload)
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
    payload = validate_command(action=action, payload=payload, version=protocol_of(station))
    with transaction.atomic():
        command = Command.objects.create(
            station=station,
            action=action,
            payload=redact_request(action, payload),
            origin=origin,
            requested_by_id=requested_by_id,
            reason=reason,
        )
        _withhold_secret(command, payload)
    return command


def command_claim(*, command_id: int, unique_id: str) -> Command | None:
    """``pending`` → ``sent``, by the connection about to send it; None if it is not pending
    any more (another process took it, or it was failed meanwhile)."""
    claimed = Command.objects.filter(pk=command_id, state=CommandState.PENDING).update(
        state=CommandState.SENT, unique_id=unique_id, sent_at=timezone.now()
    )
    if not claimed:
        return None
    command = Command.objects.select_related("station").get(pk=command_id)
    if is_authorization_key_change(command.action, command.payload) and (
        password_of(command.action, command.payload) == REDACTED
    ):
        # The real value, for this process's memory only (the row keeps the placeholder).
        key = _secret_cache_key(command_id)
        secret = cache.get(key)
        cache.delete(key)
        if secret is None:
            Command.objects.filter(pk=command_id, state=CommandState.SENT).update(
                state=CommandState.FAILED,
                detail=gettext_noop(
                    "The password to send had expired or was lost (it is never stored): "
                    "set it again."
                ),
                completed_at=timezone.now(),
            )
            return None
        command.payload = with_password(command.action, command.payload, secret)
    return command


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


# Compiled once (``supervision.compiled``): every connection runs it, a boot storm thousands.
_FAIL_ORPHANED = compiled.update(
    lambda: Command.objects.unfinished().filter(
        station_id=Param("station"), created_at__lt=Param("before")
    ),
    state=CommandState.FAILED,
    detail=Param("detail"),
    completed_at=Param("now"),
)


def commands_fail_orphaned(*, station: Station, before: datetime, detail: str) -> int:
    """Fail the station's unfinished commands from before a new connection: the connection
    they were sent to is gone, and its answers with it."""
    return _FAIL_ORPHANED.rowcount(
        station=station.pk, before=before, detail=detail, now=timezone.now()
    )


def commands_undelivered(
    *, server_process: str, older_than: timedelta
) -> list[tuple[int, int, str]]:
    """``(command, station, connection)`` of the commands pending for longer than
    ``older_than`` to stations this process holds: their channel-layer message was lost (Redis
    down or restarted) or is late; the connection runs them (``command_claim`` makes sure
    only once)."""
    return list(
        Command.objects.filter(
            state=CommandState.PENDING,
            created_at__lt=timezone.now() - older_than,
            station__server_process=server_process,
            station__connection_state=ConnectionState.CONNECTED,
        ).values_list("pk", "station_id", "station__connection_id")
    )


def commands_fail_unreachable(*, older_than: timedelta) -> int:
    """Fail the commands pending for longer than ``older_than`` to a station that is no longer
    connected (it left before its connection took them): nothing will ever run them."""
    # Read first: the sweep runs every few seconds, and a write takes the database's lock
    # (SQLite's, shared with the message log's writer) even when it changes nothing.
    unreachable = list(
        Command.objects.filter(
            state=CommandState.PENDING,
            created_at__lt=timezone.now() - older_than,
            station__connection_state=ConnectionState.DISCONNECTED,
        ).values_list("pk", flat=True)[:1000]
    )
    if not unreachable:
        return 0
    return Command.objects.filter(pk__in=unreachable, state=CommandState.PENDING).update(
        state=CommandState.FAILED,
        detail=gettext_noop("The station disconnected before the command could be sent."),
        completed_at=timezone.now(),
    )


def commands_fail_stale(*, older_than: timedelta) -> int:
    """Fail commands pending for longer than any connection would keep them queued: the
    process that held the station died without a disconnect."""
    return Command.objects.filter(
        state=CommandState.PENDING, created_at__lt=timezone.now() - older_than
    ).update(
        state=CommandState.FAILED,
        detail=gettext_noop(
            "No server process took the command: the station's connection was lost."
        ),
        completed_at=timezone.now(),
    )


# A station numbers its remote starts itself only through the remoteStartId we sent: the last
# few RequestStartTransaction commands are enough to find the one a Started event names.
REMOTE_STARTS_SEARCHED = 50


def remote_start_token(*, station: Station, remote_start_id: int) -> dict[str, Any] | None:
    """The ``idToken`` (camelCase, as sent) of the station's RequestStartTransaction that
    carried ``remote_start_id``, or None. Matched in Python: the payload column is ``json``
    on PostgreSQL, which has no equality for a key lookup."""
    commands = Command.objects.filter(
        station=station, action=CommandAction.REQUEST_START_TRANSACTION
    ).order_by("-created_at", "-pk")
    for payload in commands.values_list("payload", flat=True)[:REMOTE_STARTS_SEARCHED]:
        if isinstance(payload, dict) and payload.get("remoteStartId") == remote_start_id:
            token = payload.get("idToken")
            return token if isinstance(token, dict) else None
    return None

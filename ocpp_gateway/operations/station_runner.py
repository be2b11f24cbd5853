"""Runs commands and procedures for one connected station, one job at a time.

The consumer cannot await a call to the station in its handlers: the answer is the next frame,
which it reads only once the handler returns. So the consumer hands jobs to this runner, whose
worker task (kept, cancelled on disconnect) makes the calls through the ``ocpp`` library while
the consumer goes on reading frames. One worker per connection keeps the jobs in order, as the
library sends one call at a time anyway, and keeps a procedure's steps together. The worker
exists only while there are jobs: most stations sit idle for hours, and thousands of idle
tasks and queues were a tenth of a connection's memory.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction

from ocpp_gateway.models import Command, CommandAction, CommandOrigin, CommandState, MessageType
from ocpp_gateway.operations import commands, procedures, reservations, smart_charging
from ocpp_gateway.operations.configuration import ConfigurationDialect
from ocpp_gateway.transport.connection import LoggedConnection
from ocpp_gateway.transport.message_log import is_authorization_key_change, redact_answer
from ocpp_gateway.upstream import snake_case_key
from ocpp_gateway.versions.common import GatewayChargePoint
from ocpp_gateway.versions.v16.conversions import local_list_change, reported_keys
from ocpp_gateway.versions.v201.conversions import read_variables
from stations import services as station_services
from stations.models import OcppVersion, Station

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]
# How long a closing connection waits for its call in flight to store an answer already come.
_ANSWER_GRACE_SECONDS = 0.5


class StationRunner:
    def __init__(
        self,
        *,
        station: Station,
        charge_point: GatewayChargePoint,
        connection: LoggedConnection,
        response_timeout: float,
    ) -> None:
        self.station = station
        self._charge_point = charge_point
        self._connection = connection
        self._response_timeout = response_timeout
        self._jobs: list[Job] = []  # a few at most; an empty deque is 0.7 KiB (tracemalloc)
        self._started = False
        self._worker: asyncio.Task | None = None
        # Commands delivered to this connection and not finished: failed if it goes away.
        self._commands: set[int] = set()

    @property
    def configuration(self) -> ConfigurationDialect:
        return self._charge_point.CONFIGURATION

    def start(self) -> None:
        self._started = True
        self._wake()

    def submit(self, job: Job) -> None:
        self._jobs.append(job)
        self._wake()

    def _wake(self) -> None:
        if self._started and self._jobs and (self._worker is None or self._worker.done()):
            self._worker = asyncio.create_task(self._work())

    def submit_command(self, command_id: int) -> None:
        if command_id in self._commands:  # already on its way (the sweep found it too)
            return
        self._commands.add(command_id)
        self.submit(lambda: self.run_command(command_id))

    async def stop(self, *, detail: str) -> None:
        """Cancel the worker; what it had taken or was given fails with ``detail``. A station
        that answered our call and then closed has its answer recorded: the call in flight
        gets a moment to store it first."""
        self._jobs.clear()
        if self._worker is not None and not self._worker.done():
            await asyncio.wait({self._worker}, timeout=_ANSWER_GRACE_SECONDS)
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        if self._commands:
            await database_sync_to_async(commands.commands_fail)(
                command_ids=list(self._commands), detail=detail
            )
        await database_sync_to_async(station_services.station_interrupt_autocharge_check)(
            station=self.station
        )

    async def _work(self) -> None:
        while self._jobs:
            job = self._jobs.pop(0)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s: a station job failed", self.station.charge_point_id)
        # Not kept done: a finished task is 0.6 KiB of each idle station (tracemalloc).
        self._worker = None

    async def run(
        self,
        *,
        action: str,
        payload: dict[str, Any],
        origin: CommandOrigin,
        requested_by_id: int | None = None,
        reason: str = "",
    ) -> Command:
        """Record a command and run it now (a step of a procedure, already in the worker)."""
        command = await database_sync_to_async(commands.command_record)(
            station=self.station,
            action=action,
            payload=payload,
            origin=origin,
            requested_by_id=requested_by_id,
            reason=reason,
        )
        self._commands.add(command.pk)
        return await self.run_command(command.pk) or command

    async def run_command(self, command_id: int) -> Command | None:
        """Send the command, wait for the answer, store the outcome. None if the command was
        not pending any more (taken by another process, or failed meanwhile)."""
        unique_id = str(uuid.uuid4())
        command = await database_sync_to_async(commands.command_claim)(
            command_id=command_id, unique_id=unique_id
        )
        if command is None:
            self._commands.discard(command_id)
            return None
        try:
            state, response, status, detail = await self._call(command, unique_id)
        except Exception as error:  # never leave a command "sent" for good
            logger.exception("%s: %s failed", self.station.charge_point_id, command.action)
            state, response, status, detail = CommandState.FAILED, None, "", f"Error: {error}"
        # One transaction for the outcome and what it tells about the station: a disconnect
        # cancelling this task cannot leave one without the other.
        finished = await database_sync_to_async(finish_and_record)(
            command=command, state=state, response=response, ocpp_status=status, detail=detail
        )
        self._commands.discard(command_id)
        read_configuration = (
            finished
            and command.state == CommandState.ACCEPTED
            and command.action == self.configuration.read_action
        )
        if read_configuration and command.origin != CommandOrigin.AUTOCHARGE:
            keys = self.configuration.reported_keys(command.response)
            self.submit(lambda: procedures.check_drift(self, keys=keys))
        return command

    async def _call(self, command: Command, unique_id: str) -> tuple[CommandState, Any, str, str]:
        """``(state, response, ocpp status, detail)`` of one call."""
        # The payload is validated camelCase; the library wants its dataclass, which takes the
        # top-level keys in snake_case and sends nested objects as they are.
        request = getattr(self._charge_point.CALLS, command.action)(
            **{snake_case_key(key): value for key, value in command.payload.items()}
        )
        try:
            await self._charge_point.call(request, suppress=False, unique_id=unique_id)
        except TimeoutError:
            return (
                CommandState.TIMEOUT,
                None,
                "",
                f"No answer within {self._response_timeout} s.",
            )
        except Exception as error:  # a CALLERROR, or an answer failing the schema
            answer = self._connection.answer_to(unique_id)
            if answer is not None and answer[0] == MessageType.CALL_ERROR:
                code, description = answer[1]["errorCode"], answer[1]["errorDescription"]
                return CommandState.FAILED, answer[1], str(code), f"{code}: {description}"
            cause = getattr(error, "details", None) or {}
            description = getattr(error, "description", "") or str(error)
            if isinstance(cause, dict) and cause.get("cause"):
                description = f"{description} {cause['cause']}"
            return (
                CommandState.FAILED,
                answer[1] if answer else None,
                "",
                f"The answer fails the OCPP {commands.protocol_of(self.station)} schema: "
                f"{description}",
            )
        _, response = self._connection.answer_to(unique_id) or (None, {})
        status = commands.answer_status(command.action, response)
        if commands.is_success(command.action, status):
            return CommandState.ACCEPTED, response, status or "", ""
        return CommandState.REJECTED, response, str(status), f"The station answered {status}."


@transaction.atomic
def finish_and_record(
    *, command: Command, state: CommandState, response: Any, ocpp_status: str, detail: str
) -> bool:
    """Store a command's outcome and, when accepted, what it tells about the station (whoever
    sent it): its configuration, or its local list."""
    finished = commands.command_finish(
        command=command, state=state, response=response, ocpp_status=ocpp_status, detail=detail
    )
    if finished and is_authorization_key_change(command.action, command.payload):
        refused = state == CommandState.REJECTED or (state == CommandState.FAILED and ocpp_status)
        if state == CommandState.ACCEPTED or refused:  # no answer: nobody knows which it uses
            station_services.station_password_push_outcome(
                station=command.station,
                taken=state == CommandState.ACCEPTED,
                pushed_at=command.created_at,
            )
    if finished and command.action in smart_charging.PROFILE_ACTIONS:  # sites
        smart_charging.command_outcome_record(command=command)
    if finished and command.action in reservations.RESERVATION_ACTIONS:
        reservations.record_answer(command)
    if not finished or state != CommandState.ACCEPTED:
        return finished
    if command.action == CommandAction.GET_CONFIGURATION:
        station_services.station_record_configuration(
            station=command.station,
            keys=reported_keys(response),
            unknown_keys=response.get("unknownKey", []),
            complete=not command.payload.get("key"),
        )
    elif command.action == CommandAction.GET_VARIABLES:
        station_services.device_model_record(
            station=command.station, variables=read_variables(redact_answer(response))
        )
    elif (
        command.action == CommandAction.SEND_LOCAL_LIST
        and command.station.ocpp_version != OcppVersion.V201  # its list is not kept (yet)
    ):
        entries, removed = local_list_change(command.payload)
        station_services.station_record_local_list(
            station=command.station,
            version=command.payload["listVersion"],
            full=command.payload["updateType"] == "Full",
            entries=entries,
            removed=removed,
        )
    return finished

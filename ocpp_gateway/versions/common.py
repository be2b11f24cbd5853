"""What the supervision's side of a connection does whatever the protocol version: gate
everything on an accepted boot, check requests with the version's own error codes, use the
station as staff configured it now, and note decisions on the logged request.

Each version (``v16``, ``v201``) combines this with its handler mixins and the ``ocpp``
library's ChargePoint of that version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import NotSupportedError, OCPPError, SecurityError
from ocpp.messages import Call
from ocpp.routing import after, on

from badges.authorization import Decision
from ocpp_gateway.operations import firmware, smart_charging
from ocpp_gateway.operations.configuration import ConfigurationDialect
from ocpp_gateway.operations.refusal_records import records as refusal_records
from ocpp_gateway.transport.connection import LoggedConnection
from ocpp_gateway.transport.protocol_errors import ProtocolErrorLog
from ocpp_gateway.transport.shared_transactions import shared_transactions
from ocpp_gateway.upstream import LeanChargePoint
from ocpp_gateway.versions.v16.conversions import format_timestamp
from stations import services
from stations.authorization_index import index
from stations.enrolment import authorization_request, vehicle_refusal
from stations.models import Station

# The descriptions OCPP-J gives the two codes (1.6 table 7, 2.0.1 part 4 §4.3).
NOT_SUPPORTED_DESCRIPTION = "Requested Action is recognized but not supported by the receiver"
NOT_IMPLEMENTED_DESCRIPTION = "Requested Action is not known by receiver"


class GatewayChargePoint(LeanChargePoint):
    SUBPROTOCOL: str
    """The WebSocket subprotocol of this version (``ocpp1.6``, ``ocpp2.0.1``)."""
    CALLS: ModuleType
    """The library's ``call`` module of this version: the runner builds commands with it."""
    CALL_RESULTS: ModuleType
    """The library's ``call_result`` module of this version: answers the shared handlers give."""
    CONFIGURATION: ConfigurationDialect
    """How the procedures read and change the station's settings in this version."""
    UNREADABLE_MESSAGE_ID: str = ""
    """The message id of the CALLERROR answering a frame whose id cannot be read; empty when
    the version does not answer such a frame."""
    ACTIONS: frozenset[str]
    """Every action this version defines (the library's ``Action`` enum of the version)."""

    def __init__(self, *, station: Station, connection: LoggedConnection, response_timeout: float):
        super().__init__(station.charge_point_id, connection, response_timeout=response_timeout)
        self.station = station
        # Set by the consumer: what to start once a BootNotification has been answered.
        self.after_boot: Callable[[], None] = lambda: None
        # Set by the consumer: run a job in the connection's runner, after what is queued (an
        # ``@after`` handler's work, kept and cancelled with the connection, unlike the task the
        # library would make of a coroutine).
        self.run_later: Callable[[Callable[[], Awaitable[Any]]], None] = lambda job: None
        # A station never accepted at boot gets no other service until it is. Stations need
        # not boot again on every reconnect, so an earlier accepted boot counts.
        self.booted = station.last_boot_at is not None

    def site_rebalance_later(self, trigger: str) -> None:
        """Have the station's site share its power again, once the station has been answered
        (a session started or stopped, a connector's status: both versions' ``@after``). Not
        for a station the authorization index knows to have none: a boot storm's statuses made
        a database trip each for that (a tenth of the database thread's time after the storm,
        py-spy)."""
        known = index.station(self.station.pk)
        if known is not None and known.site_id is None:
            return
        rebalance = database_sync_to_async(smart_charging.station_changed)
        station_id, trigger = self.station.pk, f"{self.station.charge_point_id}: {trigger}"
        self.run_later(lambda: rebalance(station_id=station_id, trigger=trigger))

    def protocol_error_logger(self) -> ProtocolErrorLog:
        # One line per CALLERROR instead of the library's traceback (protocol_errors).
        return ProtocolErrorLog(self.id)

    # --- Version specifics -------------------------------------------------------------------

    def malformed_action_error(self) -> OCPPError:
        """The error for a CALL whose action is not a string."""
        raise NotImplementedError

    def check_request(self, call: Call) -> None:
        """Raise the version's error for the first schema violation of the request."""
        raise NotImplementedError

    def unreadable_error_code(self, error: OCPPError | None) -> str:
        """The code answering a frame the library could not unpack (``error``), or one that is
        JSON only by Python's lax reading (None)."""
        raise NotImplementedError

    def adjust_frame(self, frame: list, message_type: int | None, action: str, payload) -> list:
        """The frame (parsed) to hand the library (a version may tolerate what its schema does
        not)."""
        return frame

    # --- Shared behaviour ----------------------------------------------------------------------

    @after("BootNotification")
    def after_boot_notification(self, **_) -> None:
        # After the answer left: the station may now be asked things (Autocharge on boot).
        self.after_boot()

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(
        self, status: str, request_id: int | None = None, **_
    ):
        # The same action in 1.6 (Firmware Management) and 2.0.1 (block L, which names the
        # update by requestId); each version's schema has already checked the status.
        await database_sync_to_async(firmware.firmware_status_record)(
            station=self.station, status=status, request_id=request_id
        )
        return self.CALL_RESULTS.FirmwareStatusNotification()

    @on("Heartbeat")
    async def on_heartbeat(self, **_):
        await shared_transactions.run(services.station_record_heartbeat, station=self.station)
        return self.CALL_RESULTS.Heartbeat(current_time=format_timestamp(timezone.now()))

    def refuse_before_routing(self, msg: Call) -> None:
        """Refuse what the library would mishandle, with the version's error codes; the
        library then routes the call to our handlers."""
        if not isinstance(msg.action, str):
            raise self.malformed_action_error()
        if msg.action not in self.route_map:
            raise self.unhandled_action_error(msg.action)
        if not self.booted and msg.action != "BootNotification":
            raise SecurityError(
                details={"cause": "Send a BootNotification and wait until it is accepted."}
            )
        self.check_request(msg)

    def unhandled_action_error(self, action: str) -> OCPPError:
        """OCPP-J 1.6 §4.2.3 and 2.0.1 part 4 §4.3: ``NotSupported`` for an action the version
        defines that we do not handle, ``NotImplemented`` for one it does not know. The library
        swaps the two (and their default descriptions), so both are spelled out here."""
        version = self.SUBPROTOCOL.removeprefix("ocpp")
        if action in self.ACTIONS:
            cause = f"{action} is an OCPP {version} action this CSMS does not handle"
            return NotSupportedError(
                description=NOT_SUPPORTED_DESCRIPTION, details={"cause": cause}
            )
        return OcppNotImplemented(
            description=NOT_IMPLEMENTED_DESCRIPTION,
            details={"cause": f"{action} is not an OCPP {version} action"},
        )

    async def current_station(self) -> Station:
        """The station as staff configured it now (identity, mode, company): decisions must not
        use the state it had when it connected. From the authorization index, which follows
        staff's changes within a second; from the database when the index cannot say."""
        known = index.station(self.station.pk)
        if known is None:
            await database_sync_to_async(self.station.refresh_from_db)(
                fields=["auth_mode", "company", "charge_point_id"]
            )
        else:
            self.station.charge_point_id = known.charge_point_id
            self.station.auth_mode = known.auth_mode
            self.station.company_id = known.company_id
        return self.station

    async def authorize(self, id_tag: str, *, identifier_unsupported: bool = False) -> Decision:
        """The decision for an Authorize. From the process's authorization index (every badge
        in memory), a refused vehicle's records written in the next batch; from the database
        when the index cannot tell (a reservation or a pairing window at the station, a badge
        being changed, the index not up to date) or the identifier is of no badge's kind."""
        decision = (
            None
            if identifier_unsupported
            else index.decision(id_tag=id_tag, station_id=self.station.pk)
        )
        if decision is None:
            return await database_sync_to_async(authorization_request)(
                id_tag=id_tag,
                station=await self.current_station(),
                log_entry_id=self.logged_connection.request_id,
                identifier_unsupported=identifier_unsupported,
            )
        refusal = vehicle_refusal(
            decision,
            id_tag=id_tag,
            station_id=self.station.pk,
            log_entry_id=self.logged_connection.request_id,
        )
        if refusal is not None:
            refusal_records.put(refusal)
        return decision

    def record_decision(self, decision: Decision, *, ocpp_status: str = "") -> None:
        """Note a decision on the logged request; ``ocpp_status`` when the version told the
        station something else than the domain's status."""
        self.logged_connection.record_decision(
            accepted=decision.accepted,
            ocpp_status=ocpp_status or decision.status.value,
            reason=decision.reason.value,
            id_tag=decision.id_tag,
        )

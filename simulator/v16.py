"""A simulated OCPP 1.6J station, for people without a charger and for the end-to-end tests.

It is the ``ocpp`` library's own ChargePoint over a real WebSocket: boot, plug in, authorize,
start, meter values, stop; it reports what the supervision answered at each step. It also
answers the supervision's commands from a configuration of its own (a vendor's Autocharge key
included), so "Enable Autocharge" and the other station operations can be tried without a
charger.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.charge_point import ChargePoint as BaseChargePoint
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    ChargePointErrorCode,
    ChargePointStatus,
    ClearCacheStatus,
    ConfigurationStatus,
    DataTransferStatus,
    RemoteStartStopStatus,
    ResetStatus,
    TriggerMessageStatus,
    UpdateStatus,
)

from simulator.common import SharedAnswers, upload_log

# What a station of each vendor reports before Autocharge is turned on, besides the keys of
# OCPP 1.6's core and local list profiles every simulated station has.
VENDOR_CONFIGURATION = {
    "Kempower": {"AllowedAuthenticationMethods": "rfid"},
    "Delta": {"OCPP/idTagAutocharge": ""},
    "Alfen": {"AutochargeEnabled": "false"},
}
COMMON_CONFIGURATION = {
    "HeartbeatInterval": "300",
    "AuthorizationCacheEnabled": "true",
    "LocalAuthListEnabled": "true",
    "LocalAuthListMaxLength": "100",
    "SendLocalListMaxLength": "20",
}
READ_ONLY_KEYS = {"NumberOfConnectors": "1"}


def ocpp_now() -> str:
    """Now, as a station stamps what it sends: every message is stamped when it is sent."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def basic_auth(charge_point_id: str, password: str | None) -> dict[str, str]:
    """The HTTP Basic header a station presents its password with (none without one)."""
    if not password:
        return {}
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def hold_charging(
    hold: asyncio.Event,
    *,
    meter_start: int,
    power_w: float,
    interval: float,
    send_reading: Callable[[int], Awaitable[None]],
) -> int:
    """Charge until ``hold`` is set: a reading every ``interval`` seconds, the register rising
    at ``power_w`` over the time actually elapsed; the register when it is set."""
    began = time.monotonic()

    def register() -> int:
        return meter_start + int(power_w * (time.monotonic() - began) / 3600)

    while True:
        try:
            await asyncio.wait_for(hold.wait(), timeout=interval)
        except TimeoutError:
            await send_reading(register())
        else:
            return register()


async def send_readings(
    hold: asyncio.Event | None,
    *,
    accepted: bool,
    meter_start: int,
    energy_wh: int,
    power_w: float,
    interval: float,
    send_reading: Callable[[int], Awaitable[None]],
    note: Callable[[str], None],
) -> int:
    """A session's meter readings, as either version sends them: three, then the stop
    (``hold`` None: ``energy_wh`` delivered), or one every ``interval`` until ``hold`` is set;
    none after a refused start (the station stops at once). The register at the stop."""
    if hold is None:
        steps = 3
        for step in range(1, steps + 1):
            await send_reading(meter_start + energy_wh * step // (steps + 1))
        note(f"{steps} readings sent")
        return meter_start + energy_wh
    if not accepted:
        return meter_start
    note(f"a reading every {interval:g} s until stopped (Ctrl-C)")

    async def send_and_note(register: int) -> None:
        await send_reading(register)
        note(f"{register - meter_start} Wh so far")

    return await hold_charging(
        hold,
        meter_start=meter_start,
        power_w=power_w,
        interval=interval,
        send_reading=send_and_note,
    )


@dataclass
class ChargingReport:
    """What the supervision answered, step by step."""

    boot_status: str = ""
    authorize_status: str | None = None
    start_status: str | None = None
    transaction_id: int | None = None
    stop_answer: dict | None = None
    energy_wh: int = 0  # what the station reported delivered at its stop
    steps: list[tuple[str, str]] = field(default_factory=list)


class SimulatedStation(SharedAnswers, ChargePoint):
    """The library's ChargePoint, as a station; schema checks on by default.

    It answers the supervision's calls: configuration from ``configuration`` (plus the common
    keys and the vendor's Autocharge key), every change accepted unless ``reject_changes``
    (or ``reboot_required``, for keys that apply after a reboot), and it keeps a local list.
    ``received`` holds every call it got, ``(action, payload)`` with the payload in snake_case
    as the library hands it over.
    """

    CALLS = call
    CALL_RESULTS = call_result
    RESERVATION_ID = "reservation_id"
    UPDATE_FIRMWARE_ANSWER: dict[str, str] = {}

    def __init__(
        self,
        id: str,
        connection,
        *,
        vendor: str = "Simulator",
        configuration: dict[str, str] | None = None,
        reject_changes: bool = False,
        reboot_required: bool = False,
        reject_profiles: bool = False,
        reservation_answer: str = "Accepted",
        firmware_download_fails: bool = False,
        **options,
    ) -> None:
        super().__init__(id, connection, **options)
        self.shared_answers_init(
            reservation_answer=reservation_answer, firmware_download_fails=firmware_download_fails
        )
        self.upload_statuses: list[int] = []  # the HTTP answers to its diagnostics uploads
        values = {**COMMON_CONFIGURATION, **VENDOR_CONFIGURATION.get(vendor, {})}
        values.update(configuration or {})
        self.configuration = {key: (value, False) for key, value in values.items()}
        self.configuration.update({key: (value, True) for key, value in READ_ONLY_KEYS.items()})
        self.reject_changes = reject_changes
        self.reboot_required = reboot_required
        self.local_list_version = 0
        self.local_list: dict[str, dict] = {}
        self.reject_profiles = reject_profiles
        self.charging_profiles: dict[int, dict[str, Any]] = {}  # by id, as received

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **payload):
        self.received.append((Action.get_configuration, {"key": key, **payload}))
        wanted = key if key else list(self.configuration)
        known = {name.casefold(): name for name in self.configuration}
        found = [known[name.casefold()] for name in wanted if name.casefold() in known]
        return call_result.GetConfiguration(
            configuration_key=[
                {
                    "key": name,
                    "readonly": self.configuration[name][1],
                    "value": self.configuration[name][0],
                }
                for name in found
            ],
            unknown_key=[name for name in wanted if name.casefold() not in known] or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str):
        self.received.append((Action.change_configuration, {"key": key, "value": value}))
        current = self.configuration.get(key)
        if current is None:
            return call_result.ChangeConfiguration(status=ConfigurationStatus.not_supported)
        if current[1] or self.reject_changes:
            return call_result.ChangeConfiguration(status=ConfigurationStatus.rejected)
        self.configuration[key] = (value, False)
        if self.reboot_required:
            return call_result.ChangeConfiguration(status=ConfigurationStatus.reboot_required)
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    @on(Action.clear_cache)
    def on_clear_cache(self, **payload):
        self.received.append((Action.clear_cache, payload))
        return call_result.ClearCache(status=ClearCacheStatus.accepted)

    @on(Action.reset)
    def on_reset(self, **payload):
        self.received.append((Action.reset, payload))
        return call_result.Reset(status=ResetStatus.accepted)

    @on(Action.trigger_message)
    def on_trigger_message(self, **payload):
        self.received.append((Action.trigger_message, payload))
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, **payload):
        self.received.append((Action.remote_start_transaction, payload))
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, **payload):
        self.received.append((Action.remote_stop_transaction, payload))
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.accepted)

    @on(Action.send_local_list)
    def on_send_local_list(self, list_version: int, update_type: str, **payload):
        self.received.append(
            (
                Action.send_local_list,
                {"list_version": list_version, "update_type": update_type, **payload},
            )
        )
        if update_type == "Full":
            self.local_list = {}
        for entry in payload.get("local_authorization_list", []):
            if "id_tag_info" in entry:
                self.local_list[entry["id_tag"]] = entry["id_tag_info"]
            else:
                self.local_list.pop(entry["id_tag"], None)
        self.local_list_version = list_version
        return call_result.SendLocalList(status=UpdateStatus.accepted)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **payload):
        self.received.append((Action.get_local_list_version, payload))
        return call_result.GetLocalListVersion(list_version=self.local_list_version)

    @on(Action.data_transfer)
    def on_data_transfer(self, **payload):
        self.received.append((Action.data_transfer, payload))
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    # --- Smart Charging (sites) ---

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict):
        self.received.append(
            (
                Action.set_charging_profile,
                {"connector_id": connector_id, "cs_charging_profiles": cs_charging_profiles},
            )
        )
        if self.reject_profiles:
            return call_result.SetChargingProfile(status="Rejected")
        self.charging_profiles[cs_charging_profiles["charging_profile_id"]] = {
            "connector_id": connector_id,
            **cs_charging_profiles,
        }
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id: int | None = None, **payload):
        self.received.append((Action.clear_charging_profile, {"id": id, **payload}))
        if id is None:
            self.charging_profiles.clear()
        elif self.charging_profiles.pop(id, None) is None:
            return call_result.ClearChargingProfile(status="Unknown")
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int, **payload):
        self.received.append((Action.get_composite_schedule, {"connector_id": connector_id}))
        limits = [
            period["limit"]
            for profile in self.charging_profiles.values()
            if profile["connector_id"] in (0, connector_id)
            for period in profile["charging_schedule"]["charging_schedule_period"][:1]
        ]
        if not limits:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=datetime.now(UTC).isoformat(),
            charging_schedule={
                "duration": duration,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(min(limits))}],
            },
        )

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **payload):
        self.received.append((Action.get_diagnostics, {"location": location, **payload}))
        return call_result.GetDiagnostics(file_name=f"{self.id}-diagnostics.log")

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, location: str, **_):
        self._spawn(self._upload_diagnostics(location))

    async def _upload_diagnostics(self, location: str) -> None:
        await self.call(call.DiagnosticsStatusNotification(status="Uploading"))
        status = await asyncio.to_thread(
            upload_log,
            location,
            content=f"diagnostics of {self.id}\n".encode(),
            file_name=f"{self.id}-diagnostics.log",
            multipart=True,
        )
        self.upload_statuses.append(status)
        uploaded = "Uploaded" if status == 201 else "UploadFailed"
        await self.call(call.DiagnosticsStatusNotification(status=uploaded))


class OnlineStation:
    """A simulated station (of either version) connected and booted, answering the supervision
    until closed."""

    def __init__(self, station: BaseChargePoint, websocket, listener: asyncio.Task) -> None:
        self.station = station
        self.websocket = websocket
        self.listener = listener

    async def close(self) -> None:
        self.listener.cancel()
        await self.websocket.close()


async def online(
    *,
    url: str,
    charge_point_id: str,
    vendor: str = "Simulator",
    model: str = "DC-150",
    firmware_version: str | None = None,
    headers: dict[str, str] | None = None,
    **station_options,
) -> OnlineStation:
    """Connect, boot, and keep answering the supervision's calls in the background."""
    websocket = await connect(url, charge_point_id, headers)
    station = SimulatedStation(charge_point_id, websocket, vendor=vendor, **station_options)
    listener = asyncio.create_task(station.start())
    await station.call(
        call.BootNotification(
            charge_point_vendor=vendor,
            charge_point_model=model,
            firmware_version=firmware_version,
        )
    )
    return OnlineStation(station, websocket, listener)


async def connect(url: str, charge_point_id: str, headers: dict[str, str] | None = None):
    """Open the WebSocket the way a station does (``headers``: its credentials)."""
    return await websockets.connect(
        f"{url.rstrip('/')}/{charge_point_id}",
        subprotocols=["ocpp1.6"],
        additional_headers=headers or {},
    )


async def charge(
    *,
    url: str,
    charge_point_id: str,
    id_tag: str,
    connector_id: int = 1,
    energy_wh: int = 12_000,
    meter_start: int = 1_000_000,
    skip_authorize: bool = False,
    vendor: str = "Simulator",
    model: str = "DC-150",
    headers: dict[str, str] | None = None,
    hold: asyncio.Event | None = None,
    power_w: float = 11_000,
    interval: float = 10,
    report: Callable[[str, str], None] = lambda step, answer: None,
) -> ChargingReport:
    """One plug-in: boot, (authorize), start, meter values, stop. Stops early when the
    supervision refuses the tag, as a station would. Without ``hold``: three readings of
    ``energy_wh`` at once; with it, once the start is accepted: a reading every ``interval``
    seconds at ``power_w`` until ``hold`` is set (Ctrl-C, for the command), then the stop.
    Every message is stamped when it is sent."""
    result = ChargingReport()

    def note(step: str, answer: str) -> None:
        result.steps.append((step, answer))
        report(step, answer)

    async with await connect(url, charge_point_id, headers) as websocket:
        station = SimulatedStation(charge_point_id, websocket)
        listener = asyncio.create_task(station.start())
        try:
            boot = await station.call(
                call.BootNotification(charge_point_vendor=vendor, charge_point_model=model)
            )
            result.boot_status = boot.status
            note("BootNotification", f"{boot.status}, heartbeat every {boot.interval} s")

            await _status(station, connector_id, ChargePointStatus.preparing)
            note("StatusNotification", "Preparing (vehicle plugged in)")

            if not skip_authorize:
                authorize = await station.call(
                    call.Authorize(id_tag=id_tag), skip_schema_validation=len(id_tag) > 20
                )
                result.authorize_status = authorize.id_tag_info["status"]
                note("Authorize", result.authorize_status)
                if result.authorize_status != "Accepted":
                    await _status(station, connector_id, ChargePointStatus.available)
                    return result

            start = await station.call(
                call.StartTransaction(
                    connector_id=connector_id,
                    id_tag=id_tag,
                    meter_start=meter_start,
                    timestamp=ocpp_now(),
                ),
                skip_schema_validation=len(id_tag) > 20,
            )
            result.transaction_id = start.transaction_id
            result.start_status = start.id_tag_info["status"]
            note("StartTransaction", f"{result.start_status}, transaction {start.transaction_id}")

            async def send_reading(register: int) -> None:
                await station.call(
                    call.MeterValues(
                        connector_id=connector_id,
                        transaction_id=start.transaction_id,
                        meter_value=[
                            {
                                "timestamp": ocpp_now(),
                                "sampledValue": [
                                    {
                                        "value": str(register),
                                        "measurand": "Energy.Active.Import.Register",
                                        "unit": "Wh",
                                        "context": "Sample.Periodic",
                                    }
                                ],
                            }
                        ],
                    )
                )

            accepted = result.start_status == "Accepted"
            meter_stop = await send_readings(
                hold,
                accepted=accepted,
                meter_start=meter_start,
                energy_wh=energy_wh,
                power_w=power_w,
                interval=interval,
                send_reading=send_reading,
                note=lambda answer: note("MeterValues", answer),
            )

            stop = await station.call(
                call.StopTransaction(
                    meter_stop=meter_stop,
                    timestamp=ocpp_now(),
                    transaction_id=start.transaction_id,
                    reason="Local" if accepted else "DeAuthorized",
                )
            )
            result.stop_answer = stop.id_tag_info or {}
            result.energy_wh = meter_stop - meter_start
            note("StopTransaction", f"stored, {result.energy_wh} Wh delivered")
            await _status(station, connector_id, ChargePointStatus.available)
        finally:
            listener.cancel()
    return result


async def _status(station: SimulatedStation, connector_id: int, status: str) -> None:
    await station.call(
        call.StatusNotification(
            connector_id=connector_id,
            error_code=ChargePointErrorCode.no_error,
            status=status,
            timestamp=ocpp_now(),
        )
    )

"""A simulated OCPP 2.0.1 station, the 2.0.1 counterpart of ``simulator.v16``: the
``ocpp`` library's 2.0.1 ChargePoint over a real WebSocket. It charges a vehicle identified by
its MAC (an IdToken of type MacAddress) through TransactionEvents, and answers the
supervision's commands from a device model of its own."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from simulator.common import SharedAnswers, upload_log
from simulator.v16 import OnlineStation, ocpp_now, send_readings

# The device model every simulated station reports: (component, variable) → (value, mutability).
DEVICE_MODEL = {
    ("OCPPCommCtrlr", "OfflineThreshold"): ("60", "ReadWrite"),
    ("AuthCtrlr", "AuthorizeRemoteStart"): ("true", "ReadWrite"),
    ("AuthCacheCtrlr", "Enabled"): ("true", "ReadWrite"),
    ("LocalAuthListCtrlr", "Enabled"): ("true", "ReadWrite"),
    ("SecurityCtrlr", "Identity"): ("", "ReadOnly"),
    ("SecurityCtrlr", "BasicAuthPassword"): (None, "WriteOnly"),
}


@dataclass
class ChargingReport:
    """What the supervision answered, step by step."""

    boot_status: str = ""
    authorize_status: str | None = None
    started: dict = field(default_factory=dict)
    ended: dict = field(default_factory=dict)
    transaction_id: str = ""
    energy_wh: int = 0  # what the station reported delivered at its end
    steps: list[tuple[str, str]] = field(default_factory=list)


class SimulatedStation201(SharedAnswers, ChargePoint):
    """The library's 2.0.1 ChargePoint, as a station; schema checks on by default.

    ``variables`` is its device model; SetVariables changes it (``reject_changes``: refuses);
    GetBaseReport is answered, then reported with NotifyReport. ``received`` holds every call
    it got, ``(action, payload)``, the payload in snake_case as the library hands it over.
    """

    CALLS = call
    CALL_RESULTS = call_result
    RESERVATION_ID = "id"
    UPDATE_FIRMWARE_ANSWER = {"status": "Accepted"}

    def __init__(
        self,
        id: str,
        connection,
        *,
        variables: dict[tuple[str, str], tuple[str | None, str]] | None = None,
        reject_changes: bool = False,
        reservation_answer: str = "Accepted",
        firmware_download_fails: bool = False,
        **options,
    ) -> None:
        super().__init__(id, connection, **options)
        self.shared_answers_init(
            reservation_answer=reservation_answer, firmware_download_fails=firmware_download_fails
        )
        self.upload_statuses: list[int] = []  # the HTTP answers to its log uploads
        self.variables = {**DEVICE_MODEL, **(variables or {})}
        self.reject_changes = reject_changes
        self.seq_no = itertools.count()
        self.charging_profiles: dict[int, dict[str, Any]] = {}  # by id, as received

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list, **_):
        self.received.append((Action.get_variables, {"get_variable_data": get_variable_data}))
        results = []
        for item in get_variable_data:
            name = (item["component"]["name"], item["variable"]["name"])
            result = {"component": item["component"], "variable": item["variable"]}
            if name not in self.variables:
                result["attribute_status"] = "UnknownVariable"
            elif self.variables[name][1] == "WriteOnly":
                result["attribute_status"] = "Rejected"
            else:
                result["attribute_status"] = "Accepted"
                result["attribute_value"] = self.variables[name][0]
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list, **_):
        self.received.append((Action.set_variables, {"set_variable_data": set_variable_data}))
        results = []
        for item in set_variable_data:
            name = (item["component"]["name"], item["variable"]["name"])
            if name not in self.variables:
                status = "UnknownVariable"
            elif self.reject_changes or self.variables[name][1] == "ReadOnly":
                status = "Rejected"
            else:
                status = "Accepted"
                self.variables[name] = (item["attribute_value"], self.variables[name][1])
            results.append(
                {
                    "attribute_status": status,
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **_):
        self.received.append(
            (Action.get_base_report, {"request_id": request_id, "report_base": report_base})
        )
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    def after_get_base_report(self, request_id: int, **_):
        self._spawn(self._report(request_id))

    async def _report(self, request_id: int) -> None:
        await self.call(
            call.NotifyReport(
                request_id=request_id,
                generated_at=ocpp_now(),
                seq_no=0,
                report_data=[
                    {
                        "component": {"name": component},
                        "variable": {"name": variable},
                        "variableAttribute": [
                            {"value": value, "mutability": mutability}
                            if value is not None
                            else {"mutability": mutability}
                        ],
                    }
                    for (component, variable), (value, mutability) in self.variables.items()
                ],
            )
        )

    @on(Action.reset)
    def on_reset(self, **payload):
        self.received.append((Action.reset, payload))
        return call_result.Reset(status="Accepted")

    @on(Action.request_start_transaction)
    def on_request_start_transaction(self, **payload):
        self.received.append((Action.request_start_transaction, payload))
        return call_result.RequestStartTransaction(status="Accepted")

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, **payload):
        self.received.append((Action.request_stop_transaction, payload))
        return call_result.RequestStopTransaction(status="Accepted")

    @on(Action.get_transaction_status)
    def on_get_transaction_status(self, **payload):
        self.received.append((Action.get_transaction_status, payload))
        return call_result.GetTransactionStatus(messages_in_queue=False)

    @on(Action.send_local_list)
    def on_send_local_list(self, **payload):
        self.received.append((Action.send_local_list, payload))
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **payload):
        self.received.append((Action.get_local_list_version, payload))
        return call_result.GetLocalListVersion(version_number=0)

    @on(Action.data_transfer)
    def on_data_transfer(self, **payload):
        self.received.append((Action.data_transfer, payload))
        return call_result.DataTransfer(status="UnknownVendorId")

    # --- Block K, smart charging (sites) ---

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict):
        self.received.append(
            (
                Action.set_charging_profile,
                {"evse_id": evse_id, "charging_profile": charging_profile},
            )
        )
        self.charging_profiles[charging_profile["id"]] = {"evse_id": evse_id, **charging_profile}
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self, charging_profile_id: int | None = None, charging_profile_criteria=None, **payload
    ):
        self.received.append(
            (
                Action.clear_charging_profile,
                {
                    "charging_profile_id": charging_profile_id,
                    "charging_profile_criteria": charging_profile_criteria,
                },
            )
        )
        criteria = charging_profile_criteria or {}
        cleared = [
            profile_id
            for profile_id, profile in self.charging_profiles.items()
            if (charging_profile_id is None or profile_id == charging_profile_id)
            and all(
                profile.get(key) == criteria[key]
                for key in ("evse_id", "charging_profile_purpose", "stack_level")
                if key in criteria
            )
        ]
        for profile_id in cleared:
            del self.charging_profiles[profile_id]
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(self, request_id: int, **payload):
        self.received.append((Action.get_charging_profiles, payload))
        if not self.charging_profiles:
            return call_result.GetChargingProfiles(status="NoProfiles")
        self._spawn(self._report_profiles(request_id))
        return call_result.GetChargingProfiles(status="Accepted")

    async def _report_profiles(self, request_id: int) -> None:
        by_evse: dict[int, list] = {}
        for profile in self.charging_profiles.values():
            profile = dict(profile)
            by_evse.setdefault(profile.pop("evse_id"), []).append(profile)
        for evse_id, profiles in by_evse.items():
            await self.call(
                call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source="CSO",
                    evse_id=evse_id,
                    charging_profile=profiles,
                )
            )

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, duration: int, evse_id: int, **payload):
        self.received.append((Action.get_composite_schedule, {"evse_id": evse_id}))
        return call_result.GetCompositeSchedule(status="Rejected")

    @on(Action.get_log)
    def on_get_log(self, **payload):
        self.received.append((Action.get_log, payload))
        return call_result.GetLog(status="Accepted", filename=f"{self.id}.log")

    @after(Action.get_log)
    def after_get_log(self, log: dict, request_id: int, **_):
        self._spawn(self._upload_log(log["remote_location"], request_id))

    async def _upload_log(self, location: str, request_id: int) -> None:
        await self.call(call.LogStatusNotification(status="Uploading", request_id=request_id))
        status = await asyncio.to_thread(
            upload_log,
            location,
            content=f"log of {self.id}\n".encode(),
            file_name=f"{self.id}.log",
            multipart=False,
        )
        self.upload_statuses.append(status)
        uploaded = "Uploaded" if status == 201 else "UploadFailure"
        await self.call(call.LogStatusNotification(status=uploaded, request_id=request_id))

    # --- What a station sends -----------------------------------------------------------------

    async def boot(self, *, vendor: str = "Simulator", model: str = "DC-150", **station):
        return await self.call(
            call.BootNotification(
                charging_station={"vendor_name": vendor, "model": model, **station},
                reason="PowerUp",
            )
        )

    async def status(self, evse_id: int, status: str) -> None:
        await self.call(
            call.StatusNotification(
                timestamp=ocpp_now(), connector_status=status, evse_id=evse_id, connector_id=1
            )
        )

    async def transaction_event(
        self,
        event_type: str,
        transaction_id: str,
        *,
        trigger_reason: str,
        id_token: dict | None = None,
        evse_id: int | None = None,
        energy_wh: int | None = None,
        timestamp: str | None = None,
        seq_no: int | None = None,
        offline: bool | None = None,
        stopped_reason: str | None = None,
        charging_state: str | None = None,
    ):
        """One TransactionEvent, numbered in order unless ``seq_no`` is given; ``energy_wh``
        sends the energy register."""
        timestamp = timestamp or ocpp_now()
        info = {"transaction_id": transaction_id}
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
        if charging_state:
            info["charging_state"] = charging_state
        meter_value = None
        if energy_wh is not None:
            meter_value = [
                {
                    "timestamp": timestamp,
                    "sampledValue": [
                        {"value": energy_wh, "measurand": "Energy.Active.Import.Register"}
                    ],
                }
            ]
        return await self.call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=timestamp,
                trigger_reason=trigger_reason,
                seq_no=next(self.seq_no) if seq_no is None else seq_no,
                transaction_info=info,
                meter_value=meter_value,
                offline=offline,
                evse={"id": evse_id, "connector_id": 1} if evse_id else None,
                id_token=id_token,
            )
        )


def mac_token(mac: str) -> dict[str, str]:
    """The IdToken a station sends for a vehicle's MAC (EVCCID)."""
    return {"id_token": mac, "type": "MacAddress"}


async def connect(url: str, charge_point_id: str, headers: dict[str, str] | None = None):
    """Open the WebSocket the way a 2.0.1 station does (``headers``: its credentials)."""
    return await websockets.connect(
        f"{url.rstrip('/')}/{charge_point_id}",
        subprotocols=["ocpp2.0.1"],
        additional_headers=headers or {},
    )


async def online(
    *,
    url: str,
    charge_point_id: str,
    vendor: str = "Simulator",
    model: str = "DC-150",
    headers: dict[str, str] | None = None,
    station_class: type[SimulatedStation201] = SimulatedStation201,
    **options,
) -> OnlineStation:
    """Connect, boot, and keep answering the supervision's calls in the background."""
    websocket = await connect(url, charge_point_id, headers)
    station = station_class(charge_point_id, websocket, **options)
    listener = asyncio.create_task(station.start())
    await station.boot(vendor=vendor, model=model)
    return OnlineStation(station, websocket, listener)


async def charge(
    *,
    url: str,
    charge_point_id: str,
    id_token: dict[str, str],
    evse_id: int = 1,
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
    """One plug-in: boot, EVSE occupied, (authorize), TransactionEvent Started, Updated with
    meter values, Ended. Stops early when the supervision refuses the token, as a station
    would. ``hold``, ``power_w`` and ``interval`` as ``simulator.v16.charge`` takes
    them; every message is stamped when it is sent."""
    result = ChargingReport(transaction_id=str(uuid.uuid4()))

    def note(step: str, answer: str) -> None:
        result.steps.append((step, answer))
        report(step, answer)

    async with await connect(url, charge_point_id, headers) as websocket:
        station = SimulatedStation201(charge_point_id, websocket)
        listener = asyncio.create_task(station.start())
        try:
            boot = await station.boot(vendor=vendor, model=model)
            result.boot_status = boot.status
            note("BootNotification", f"{boot.status}, heartbeat every {boot.interval} s")
            await station.status(evse_id, "Occupied")
            note("StatusNotification", "Occupied (vehicle plugged in)")
            if not skip_authorize:
                authorize = await station.call(call.Authorize(id_token=id_token))
                result.authorize_status = authorize.id_token_info["status"]
                note("Authorize", result.authorize_status)
                if result.authorize_status != "Accepted":
                    await station.status(evse_id, "Available")
                    return result
            started = await station.transaction_event(
                "Started",
                result.transaction_id,
                trigger_reason="Authorized",
                id_token=id_token,
                evse_id=evse_id,
                energy_wh=meter_start,
                timestamp=ocpp_now(),
            )
            result.started = started.id_token_info or {}
            note("TransactionEvent", f"Started: {result.started.get('status')}")

            async def send_reading(register: int) -> None:
                await station.transaction_event(
                    "Updated",
                    result.transaction_id,
                    trigger_reason="MeterValuePeriodic",
                    energy_wh=register,
                    timestamp=ocpp_now(),
                )

            meter_stop = await send_readings(
                hold,
                accepted=result.started.get("status") == "Accepted",
                meter_start=meter_start,
                energy_wh=energy_wh,
                power_w=power_w,
                interval=interval,
                send_reading=send_reading,
                note=lambda answer: note("TransactionEvent", f"Updated: {answer}"),
            )
            ended = await station.transaction_event(
                "Ended",
                result.transaction_id,
                trigger_reason="StopAuthorized",
                id_token=id_token,
                energy_wh=meter_stop,
                timestamp=ocpp_now(),
                stopped_reason="Local",
            )
            result.ended = ended.id_token_info or {}
            result.energy_wh = meter_stop - meter_start
            note("TransactionEvent", f"Ended: {result.energy_wh} Wh delivered")
            await station.status(evse_id, "Available")
        finally:
            listener.cancel()
    return result

"""A simulated OCPP 1.6J station, for people without a charger and for the end-to-end tests.

It is the ``ocpp`` library's own ChargePoint over a real WebSocket: boot, plug in, authorize,
start, meter values, stop; it reports what the supervision answered at each step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus


def _now(offset_seconds: int = 0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=offset_seconds)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class ChargingReport:
    """What the supervision answered, step by step."""

    boot_status: str = ""
    authorize_status: str | None = None
    start_status: str | None = None
    transaction_id: int | None = None
    stop_answer: dict | None = None
    steps: list[tuple[str, str]] = field(default_factory=list)


class SimulatedStation(ChargePoint):
    """The library's ChargePoint, as a station; schema checks on by default."""


async def connect(url: str, charge_point_id: str):
    """Open the WebSocket the way a station does."""
    return await websockets.connect(
        f"{url.rstrip('/')}/{charge_point_id}", subprotocols=["ocpp1.6"]
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
    report: Callable[[str, str], None] = lambda step, answer: None,
) -> ChargingReport:
    """One plug-in: boot, (authorize), start, three meter values, stop. Stops early when the
    supervision refuses the tag, as a station would."""
    result = ChargingReport()

    def note(step: str, answer: str) -> None:
        result.steps.append((step, answer))
        report(step, answer)

    async with await connect(url, charge_point_id) as websocket:
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
                    timestamp=_now(),
                ),
                skip_schema_validation=len(id_tag) > 20,
            )
            result.transaction_id = start.transaction_id
            result.start_status = start.id_tag_info["status"]
            note("StartTransaction", f"{result.start_status}, transaction {start.transaction_id}")

            steps = 3
            for step in range(1, steps + 1):
                register = meter_start + energy_wh * step // (steps + 1)
                await station.call(
                    call.MeterValues(
                        connector_id=connector_id,
                        transaction_id=start.transaction_id,
                        meter_value=[
                            {
                                "timestamp": _now(step * 60),
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
            note("MeterValues", f"{steps} readings sent")

            stop_reason = "Local" if result.start_status == "Accepted" else "DeAuthorized"
            stop = await station.call(
                call.StopTransaction(
                    meter_stop=meter_start + energy_wh,
                    timestamp=_now(steps * 60 + 60),
                    transaction_id=start.transaction_id,
                    reason=stop_reason,
                )
            )
            result.stop_answer = stop.id_tag_info or {}
            note("StopTransaction", f"stored, {energy_wh} Wh delivered")
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
            timestamp=_now(),
        )
    )

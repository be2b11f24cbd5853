"""The OCA's OCTT 2.0.1 CSMS test cases of blocks A (security), B (provisioning),
C (authorization) and E (transactions) that apply to this supervision, one test each, named
after the case id, against a real server with the ``ocpp`` library's 2.0.1 ChargePoint.

The case list and each case's gist come from a public reimplementation of the OCTT's CSMS
cases (not from the OCTT document itself). The cases left out, and why, are listed in the
README (OCPP 2.0.1 support).
"""

import asyncio
import base64
from datetime import timedelta

import pytest
import websockets
from django.conf import global_settings
from django.utils import timezone
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from badges.models import Badge, BadgeState
from ocpp_gateway.models import Command, OcppMessage
from simulator import v201 as simulator
from simulator.v201 import ocpp_now
from stations.models import ChargingSession, DeviceModelVariable, MeterValue, Station
from stations.services import station_set_password
from tests.e2e.stations import Api, Online201, staff_token, wait_for
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

CP = "OCTT-CP-1"
PASSWORD = "0123456789123456"
VALID = {"id_token": "100000C01", "type": "Central"}
VALID_2 = {"id_token": "100000C03", "type": "ISO14443"}
INVALID = {"id_token": "100000C02", "type": "Central"}


@pytest.fixture
def station(transactional_db):
    station = StationFactory(charge_point_id=CP)
    BadgeFactory(rfid=VALID["id_token"], company=station.company)
    return station


@pytest.fixture
def cp(server_url, station):
    connected = Online201(server_url, station)
    yield connected
    connected.close()


@pytest.fixture
def api(server_url):
    return Api(server_url, staff_token())


def event(cp, event_type: str, tx: str, trigger: str, **options):
    return cp.send(cp.station.transaction_event(event_type, tx, trigger_reason=trigger, **options))


def command(api, station, action: str, payload: dict) -> Command:
    code, body = api.post(
        f"/stations/{station.pk}/commands/", {"action": action, "payload": payload}
    )
    assert code == 202, body
    return wait_for(
        lambda: Command.objects.filter(pk=body["id"], completed_at__isnull=False).first()
    )


def session(tx: str) -> ChargingSession:
    return ChargingSession.objects.get(station_transaction_id=tx)


# --- A: Security ------------------------------------------------------------------------------


def basic(username: str, password: str) -> dict[str, str]:
    return {
        "Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    }


def handshake(server_url: str, headers: dict) -> int:
    async def attempt():
        try:
            websocket = await simulator.connect(f"{server_url}/ocpp", CP, headers)
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        await websocket.close()
        return 101

    return asyncio.run(attempt())


@pytest.fixture
def secured(station, settings):
    # The server process checks with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    station_set_password(station=station, password=PASSWORD)
    return station


def test_TC_A_01_CSMS_basic_authentication_valid_credentials(server_url, secured):
    connected = Online201(server_url, secured, headers=basic(CP, PASSWORD))
    try:
        assert connected.online.websocket.subprotocol == "ocpp2.0.1"
        assert Station.objects.get(pk=secured.pk).last_boot_reason == "PowerUp"
    finally:
        connected.close()


def test_TC_A_02_CSMS_basic_authentication_username_is_not_the_station(server_url, secured):
    assert handshake(server_url, basic("SOMEONE-ELSE", PASSWORD)) == 401


def test_TC_A_03_CSMS_basic_authentication_invalid_password(server_url, secured):
    assert handshake(server_url, basic(CP, "not-the-password-at-all")) == 401


def push_new_password(server_url, station, **station_options) -> tuple[Command, list]:
    connected = Online201(server_url, station, headers=basic(CP, PASSWORD), **station_options)
    try:
        code, body = Api(server_url, staff_token()).patch(
            f"/stations/{station.pk}/",
            {"basic_auth_password": "A-new-password-2026", "push_authorization_key": True},
        )
        assert code == 200, body
        pushed = wait_for(lambda: Command.objects.filter(completed_at__isnull=False).first())
        received = connected.station.calls(Action.set_variables)
    finally:
        connected.close()
    return pushed, received


def test_TC_A_09_CSMS_update_charging_station_password_accepted(server_url, secured):
    pushed, received = push_new_password(server_url, secured)

    assert (pushed.action, pushed.state) == ("SetVariables", "accepted")
    [item] = received[0]["set_variable_data"]
    assert (item["variable"]["name"], item["attribute_value"]) == (
        "BasicAuthPassword",
        "A-new-password-2026",
    )
    assert handshake(server_url, basic(CP, "A-new-password-2026")) == 101
    assert handshake(server_url, basic(CP, PASSWORD)) == 401
    assert "A-new-password-2026" not in str(list(OcppMessage.objects.values_list("payload")))


def test_TC_A_10_CSMS_update_charging_station_password_rejected(server_url, secured):
    pushed, _received = push_new_password(server_url, secured, reject_changes=True)

    assert (pushed.state, pushed.ocpp_status) == ("rejected", "Rejected")
    # The station kept its password: so does the supervision.
    assert handshake(server_url, basic(CP, PASSWORD)) == 101
    assert handshake(server_url, basic(CP, "A-new-password-2026")) == 401


# --- B: Provisioning --------------------------------------------------------------------------


def test_TC_B_01_CSMS_cold_boot_charging_station_accepted(server_url, station):
    async def cold_boot():
        async with await simulator.connect(f"{server_url}/ocpp", CP) as websocket:
            cp = simulator.SimulatedStation201(CP, websocket)
            listener = asyncio.create_task(cp.start())
            try:
                boot = await cp.boot()
                await cp.status(1, "Available")
                heartbeat = await cp.call(call.Heartbeat())
            finally:
                listener.cancel()
            return boot, heartbeat

    boot, heartbeat = asyncio.run(cold_boot())

    assert (boot.status, boot.interval > 0, bool(boot.current_time)) == ("Accepted", True, True)
    assert heartbeat.current_time
    station.refresh_from_db()
    assert (station.vendor, station.model, station.last_boot_reason) == (
        "Simulator",
        "DC-150",
        "PowerUp",
    )
    assert station.connectors.get().status == "Available"


def get_variables(*names: tuple[str, str]) -> dict:
    return {
        "getVariableData": [
            {"component": {"name": component}, "variable": {"name": variable}}
            for component, variable in names
        ]
    }


def test_TC_B_06_CSMS_get_variables_single_value(station, cp, api):
    read = command(
        api, station, "GetVariables", get_variables(("OCPPCommCtrlr", "OfflineThreshold"))
    )

    assert read.state == "accepted"
    assert read.response["getVariableResult"][0]["attributeValue"] == "60"
    assert DeviceModelVariable.objects.get(variable="OfflineThreshold").value == "60"


def test_TC_B_07_CSMS_get_variables_multiple_values(station, cp, api):
    read = command(
        api,
        station,
        "GetVariables",
        get_variables(("OCPPCommCtrlr", "OfflineThreshold"), ("AuthCtrlr", "AuthorizeRemoteStart")),
    )

    assert [result["attributeValue"] for result in read.response["getVariableResult"]] == [
        "60",
        "true",
    ]
    assert DeviceModelVariable.objects.count() == 2


def set_variables(*values: tuple[str, str, str]) -> dict:
    return {
        "setVariableData": [
            {"attributeValue": value, "component": {"name": component}, "variable": {"name": name}}
            for component, name, value in values
        ]
    }


def test_TC_B_09_CSMS_set_variables_single_value(station, cp, api):
    changed = command(
        api, station, "SetVariables", set_variables(("OCPPCommCtrlr", "OfflineThreshold", "123"))
    )

    assert (changed.state, changed.ocpp_status) == ("accepted", "Accepted")
    assert cp.station.variables[("OCPPCommCtrlr", "OfflineThreshold")][0] == "123"


def test_TC_B_10_CSMS_set_variables_multiple_values(station, cp, api):
    changed = command(
        api,
        station,
        "SetVariables",
        set_variables(
            ("OCPPCommCtrlr", "OfflineThreshold", "123"),
            ("AuthCtrlr", "AuthorizeRemoteStart", "false"),
        ),
    )

    assert changed.state == "accepted"
    variables = cp.station.variables
    assert variables[("OCPPCommCtrlr", "OfflineThreshold")][0] == "123"
    assert variables[("AuthCtrlr", "AuthorizeRemoteStart")][0] == "false"


def base_report(api, station, report_base: str) -> Command:
    reported = command(api, station, "GetBaseReport", {"requestId": 42, "reportBase": report_base})
    wait_for(lambda: OcppMessage.objects.filter(action="NotifyReport", direction="out").exists())
    return reported


def test_TC_B_12_CSMS_get_base_report_configuration_inventory(station, cp, api):
    reported = base_report(api, station, "ConfigurationInventory")

    assert (reported.state, reported.ocpp_status) == ("accepted", "Accepted")
    assert cp.station.calls(Action.get_base_report)[0]["report_base"] == "ConfigurationInventory"
    assert DeviceModelVariable.objects.filter(station=station).count() == 6


def test_TC_B_13_CSMS_get_base_report_full_inventory(station, cp, api):
    reported = base_report(api, station, "FullInventory")

    assert reported.state == "accepted"
    assert DeviceModelVariable.objects.get(variable="AuthorizeRemoteStart").value == "true"


def test_TC_B_14_CSMS_get_base_report_summary_inventory(station, cp, api):
    reported = base_report(api, station, "SummaryInventory")

    assert reported.state == "accepted"
    assert cp.station.calls(Action.get_base_report)[0]["report_base"] == "SummaryInventory"


class ResettingStation(simulator.SimulatedStation201):
    """Answers Reset with ``reset_status`` (Scheduled while a transaction runs)."""

    def __init__(self, *args, reset_status: str = "Accepted", **options) -> None:
        super().__init__(*args, **options)
        self.reset_status = reset_status

    @on(Action.reset)
    def on_reset(self, **payload):
        self.received.append((Action.reset, payload))
        return call_result.Reset(status=self.reset_status)


def reset_case(server_url, station, api, *, reset_type, evse_id=None, transaction=False):
    """Reset from the command API; with a transaction, the station ends it (OnIdle: once
    idle, Immediate: at once) and reboots: the session closes, the boot is recorded."""
    connected = Online201(
        server_url,
        station,
        station_class=ResettingStation,
        reset_status="Scheduled" if transaction and reset_type == "OnIdle" else "Accepted",
    )
    try:
        if transaction:
            event(connected, "Started", "tx-reset", "Authorized", id_token=VALID, evse_id=1)
        payload = {"type": reset_type, **({"evseId": evse_id} if evse_id else {})}
        reset = command(api, station, "Reset", payload)
        if transaction:
            reason = "ImmediateReset" if reset_type == "Immediate" else "Local"
            event(connected, "Ended", "tx-reset", "ResetCommand", stopped_reason=reason)
        if evse_id is None:
            connected.send(
                connected.station.call(
                    call.BootNotification(
                        charging_station={"vendor_name": "Simulator", "model": "DC-150"},
                        reason="RemoteReset",
                    )
                )
            )
    finally:
        connected.close()
    assert reset.state == "accepted"
    assert connected.station.calls(Action.reset)[0] == {
        "type": reset_type,
        **({"evse_id": evse_id} if evse_id else {}),
    }
    if transaction:
        assert session("tx-reset").stopped_at is not None
    if evse_id is None:
        assert Station.objects.get(pk=station.pk).last_boot_reason == "RemoteReset"
    return reset


def test_TC_B_20_CSMS_reset_charging_station_without_transaction_on_idle(server_url, station, api):
    assert reset_case(server_url, station, api, reset_type="OnIdle").ocpp_status == "Accepted"


def test_TC_B_21_CSMS_reset_charging_station_with_transaction_on_idle(server_url, station, api):
    reset = reset_case(server_url, station, api, reset_type="OnIdle", transaction=True)
    assert reset.ocpp_status == "Scheduled"


def test_TC_B_22_CSMS_reset_charging_station_with_transaction_immediate(server_url, station, api):
    reset_case(server_url, station, api, reset_type="Immediate", transaction=True)
    assert session("tx-reset").stop_reason == "ImmediateReset"


def test_TC_B_25_CSMS_reset_evse_without_transaction(server_url, station, api):
    reset_case(server_url, station, api, reset_type="OnIdle", evse_id=1)


def test_TC_B_26_CSMS_reset_evse_with_transaction_on_idle(server_url, station, api):
    reset = reset_case(server_url, station, api, reset_type="OnIdle", evse_id=1, transaction=True)
    assert reset.ocpp_status == "Scheduled"


def test_TC_B_27_CSMS_reset_evse_with_transaction_immediate(server_url, station, api):
    reset_case(server_url, station, api, reset_type="Immediate", evse_id=1, transaction=True)
    assert session("tx-reset").stop_reason == "ImmediateReset"


def test_TC_B_58_CSMS_websocket_subprotocol_validation(server_url, station):
    async def offered(*protocols):
        try:
            websocket = await websockets.connect(
                f"{server_url}/ocpp/{CP}", subprotocols=list(protocols)
            )
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        await websocket.close()
        return websocket.subprotocol

    assert asyncio.run(offered("ocpp1.6", "ocpp2.0.1")) == "ocpp2.0.1"
    assert asyncio.run(offered("ocpp2.0.1")) == "ocpp2.0.1"
    assert asyncio.run(offered("ocpp0.9")) == 400


# --- C: Authorization -------------------------------------------------------------------------


def authorize(cp, id_token) -> str:
    return cp.send(cp.station.call(call.Authorize(id_token=id_token))).id_token_info["status"]


def test_TC_C_02_CSMS_local_start_authorization_invalid_unknown(station, cp):
    assert authorize(cp, INVALID) == "Unknown"


def test_TC_C_06_CSMS_local_start_authorization_blocked(station, cp):
    BadgeFactory(rfid="100000C04", company=station.company, state=BadgeState.DISABLED)
    assert authorize(cp, {"id_token": "100000C04", "type": "Central"}) == "Blocked"


def test_TC_C_07_CSMS_local_start_authorization_expired(station, cp):
    BadgeFactory(
        rfid="100000C05", company=station.company, expires_at=timezone.now() - timedelta(days=1)
    )
    assert authorize(cp, {"id_token": "100000C05", "type": "Central"}) == "Expired"


def test_TC_C_08_CSMS_authorization_through_cache_accepted(station, cp):
    started = event(cp, "Started", "tx-c08", "Authorized", id_token=VALID, evse_id=1)

    assert started.id_token_info["status"] == "Accepted"
    # The log is written in batches: once the event's row is there, an Authorize would be too.
    wait_for(OcppMessage.objects.filter(action="TransactionEvent", direction="in").exists)
    assert not OcppMessage.objects.filter(action="Authorize").exists()
    assert session("tx-c08").authorization_status == "Accepted"


def test_TC_C_20_CSMS_authorization_through_cache_invalid(station, cp):
    started = event(cp, "Started", "tx-c20", "Authorized", id_token=INVALID, evse_id=1)

    assert started.id_token_info["status"] == "Unknown"
    assert session("tx-c20").authorization_reason == "unknown_badge"


class CacheRefusingStation(simulator.SimulatedStation201):
    @on(Action.clear_cache)
    def on_clear_cache(self, **payload):
        return call_result.ClearCache(status="Rejected")


def test_TC_C_37_CSMS_clear_authorization_data_in_cache_accepted(station, cp, api):
    cleared = command(api, station, "ClearCache", {})
    assert (cleared.state, cleared.ocpp_status) == ("accepted", "Accepted")


def test_TC_C_38_CSMS_clear_authorization_data_in_cache_rejected(server_url, station, api):
    connected = Online201(server_url, station, station_class=CacheRefusingStation)
    try:
        cleared = command(api, station, "ClearCache", {})
    finally:
        connected.close()

    assert (cleared.state, cleared.ocpp_status) == ("rejected", "Rejected")


def test_TC_C_39_CSMS_authorization_by_group_id_success(station, cp):
    BadgeFactory(rfid=VALID_2["id_token"], company=station.company)

    started = event(cp, "Started", "tx-c39", "Authorized", id_token=VALID, evse_id=1)
    ended = event(cp, "Ended", "tx-c39", "StopAuthorized", id_token=VALID_2, stopped_reason="Local")

    assert started.id_token_info["status"] == ended.id_token_info["status"] == "Accepted"
    assert started.id_token_info["group_id_token"] == ended.id_token_info["group_id_token"]
    assert session("tx-c39").id_tag == VALID["id_token"]  # the starter keeps the session


# --- E: Transactions --------------------------------------------------------------------------


def start(cp, tx: str, trigger: str, *, token=VALID, **options):
    return event(cp, "Started", tx, trigger, id_token=token, evse_id=1, **options)


def test_TC_E_01_CSMS_start_transaction_power_path_closed(station, cp):
    authorize(cp, VALID)
    started = start(cp, "tx-e01", "ChargingStateChanged", charging_state="SuspendedEVSE")
    event(cp, "Updated", "tx-e01", "ChargingStateChanged", charging_state="Charging")

    assert started.id_token_info["status"] == "Accepted"
    assert session("tx-e01").events.count() == 2


def test_TC_E_02_CSMS_start_transaction_energy_transfer(station, cp):
    started = start(cp, "tx-e02", "ChargingStateChanged", charging_state="Charging", energy_wh=10)
    assert started.id_token_info["status"] == "Accepted"
    assert session("tx-e02").meter_start == 10


def test_TC_E_03_CSMS_local_start_transaction_cable_plugin_first(station, cp):
    started = event(
        cp, "Started", "tx-e03", "CablePluggedIn", evse_id=1, charging_state="EVConnected"
    )
    assert authorize(cp, VALID) == "Accepted"
    authorized = event(cp, "Updated", "tx-e03", "Authorized", id_token=VALID)

    assert (started.id_token_info, authorized.id_token_info["status"]) == (None, "Accepted")
    assert session("tx-e03").authorization_reason == "accepted"


def test_TC_E_04_CSMS_local_start_transaction_authorization_first(station, cp):
    assert authorize(cp, VALID) == "Accepted"
    started = start(cp, "tx-e04", "Authorized")
    event(cp, "Updated", "tx-e04", "CablePluggedIn", charging_state="EVConnected")

    assert started.id_token_info["status"] == "Accepted"


def test_TC_E_09_CSMS_start_transaction_ev_connected(station, cp):
    started = event(
        cp, "Started", "tx-e09", "CablePluggedIn", evse_id=1, charging_state="EVConnected"
    )

    assert started.id_token_info is None
    assert (session("tx-e09").connector_id, session("tx-e09").id_tag) == (1, "")


def test_TC_E_10_CSMS_start_transaction_authorized(station, cp):
    assert start(cp, "tx-e10", "Authorized").id_token_info["status"] == "Accepted"


def test_TC_E_11_CSMS_start_transaction_data_signed(station, cp):
    signed = {
        "signedMeterData": "c2lnbmVk",
        "signingMethod": "ECDSA-secp256r1-SHA256",
        "encodingMethod": "OCMF",
        "publicKey": "a2V5",
    }
    answer = cp.send(
        cp.station.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=ocpp_now(),
                trigger_reason="SignedDataReceived",
                seq_no=0,
                transaction_info={"transaction_id": "tx-e11"},
                evse={"id": 1, "connector_id": 1},
                id_token=VALID,
                meter_value=[
                    {
                        "timestamp": ocpp_now(),
                        "sampledValue": [
                            {
                                "value": 1234.5,
                                "context": "Transaction.Begin",
                                "signedMeterValue": signed,
                            }
                        ],
                    }
                ],
            )
        )
    )

    assert answer.id_token_info["status"] == "Accepted"
    assert MeterValue.objects.get(session=session("tx-e11")).context == "Transaction.Begin"


def test_TC_E_12_CSMS_start_transaction_parking_bay_occupied(station, cp):
    started = event(cp, "Started", "tx-e12", "EVDetected", evse_id=1)
    assert started.id_token_info is None
    assert session("tx-e12").events.get().trigger_reason == "EVDetected"


def test_TC_E_38_CSMS_local_start_transaction_ev_not_ready(station, cp):
    started = start(cp, "tx-e38", "Authorized", charging_state="SuspendedEV")
    assert started.id_token_info["status"] == "Accepted"


def stop_case(cp, tx: str, trigger: str, stopped_reason: str, *, token=None, **options):
    start(cp, tx, "Authorized", energy_wh=1_000)
    ended = event(
        cp,
        "Ended",
        tx,
        trigger,
        stopped_reason=stopped_reason,
        id_token=token,
        energy_wh=4_000,
        **options,
    )
    closed = session(tx)
    assert (closed.stop_reason, closed.energy_wh) == (stopped_reason, 3_000)
    return ended


def test_TC_E_07_CSMS_stop_transaction_power_path_closed_local(station, cp):
    stop_case(cp, "tx-e07", "ChargingStateChanged", "Local", charging_state="EVConnected")


def test_TC_E_08_CSMS_stop_transaction_energy_transfer_stopped(station, cp):
    ended = stop_case(cp, "tx-e08", "StopAuthorized", "Local", token=VALID)
    assert ended.id_token_info["status"] == "Accepted"


def test_TC_E_14_CSMS_stop_transaction_ev_disconnected_charging_station_side(station, cp):
    stop_case(cp, "tx-e14", "EVCommunicationLost", "EVDisconnected")


def test_TC_E_15_CSMS_stop_transaction_stop_authorized_local(station, cp):
    ended = stop_case(cp, "tx-e15", "StopAuthorized", "Local", token=VALID)
    assert ended.id_token_info["status"] == "Accepted"


def test_TC_E_16_CSMS_stop_transaction_deauthorized_invalid_id_token(station, cp):
    started = event(cp, "Started", "tx-e16", "Authorized", id_token=INVALID, evse_id=1)
    assert started.id_token_info["status"] == "Unknown"
    event(cp, "Ended", "tx-e16", "Deauthorized", stopped_reason="DeAuthorized")

    closed = session("tx-e16")
    assert (closed.authorization_reason, closed.stop_reason) == ("unknown_badge", "DeAuthorized")


def test_TC_E_17_CSMS_stop_transaction_deauthorized_ev_side_disconnect(station, cp):
    start(cp, "tx-e17", "Authorized")
    # The badge is disabled meanwhile: the next event's token is told so, and the station ends.
    Badge.objects.filter(rfid=VALID["id_token"]).update(state=BadgeState.DISABLED)
    updated = event(cp, "Updated", "tx-e17", "EVCommunicationLost", id_token=VALID)
    event(cp, "Ended", "tx-e17", "Deauthorized", stopped_reason="EVDisconnected")

    assert updated.id_token_info["status"] == "Blocked"
    assert session("tx-e17").stop_reason == "EVDisconnected"


def test_TC_E_19_CSMS_stop_transaction_parking_bay_unoccupied(station, cp):
    stop_case(cp, "tx-e19", "EVDeparted", "Local")


def test_TC_E_20_CSMS_stop_transaction_ev_disconnected_ev_side(station, cp):
    stop_case(cp, "tx-e20", "EVCommunicationLost", "EVDisconnected")


def test_TC_E_21_CSMS_stop_transaction_remote_stop(station, cp, api):
    start(cp, "tx-e21", "Authorized", energy_wh=1_000)

    stop = command(api, station, "RequestStopTransaction", {"transactionId": "tx-e21"})
    event(cp, "Ended", "tx-e21", "RemoteStop", stopped_reason="Remote", energy_wh=2_500)

    assert (stop.state, cp.station.calls(Action.request_stop_transaction)) == (
        "accepted",
        [{"transaction_id": "tx-e21"}],
    )
    assert (session("tx-e21").stop_reason, session("tx-e21").energy_wh) == ("Remote", 1_500)


def test_TC_E_22_CSMS_stop_transaction_energy_transfer_suspended_ev(station, cp):
    stop_case(cp, "tx-e22", "ChargingStateChanged", "StoppedByEV", charging_state="SuspendedEV")


def test_TC_E_26_CSMS_suspend_and_resume_transaction(station, cp):
    start(cp, "tx-e26", "Authorized", charging_state="Charging")
    event(cp, "Updated", "tx-e26", "ChargingStateChanged", charging_state="SuspendedEV")
    event(cp, "Updated", "tx-e26", "ChargingStateChanged", charging_state="Charging")

    assert session("tx-e26").is_active
    assert session("tx-e26").events.count() == 3


def test_TC_E_39_CSMS_stop_transaction_deauthorized_timeout(station, cp):
    start(cp, "tx-e39", "Authorized")
    event(cp, "Ended", "tx-e39", "EVConnectTimeout", stopped_reason="Timeout")
    assert session("tx-e39").stop_reason == "Timeout"


def transaction_status(api, station, cp, payload: dict) -> Command:
    status = command(api, station, "GetTransactionStatus", payload)
    assert status.state == "accepted"
    assert cp.station.calls(Action.get_transaction_status) == [
        {"transaction_id": payload["transactionId"]} if payload else {}
    ]
    return status


def test_TC_E_29_CSMS_transaction_status_ongoing_with_messages(station, cp, api):
    start(cp, "tx-e29", "Authorized")
    event(cp, "Updated", "tx-e29", "MeterValuePeriodic", energy_wh=100, offline=True)
    transaction_status(api, station, cp, {"transactionId": "tx-e29"})


def test_TC_E_30_CSMS_transaction_status_ongoing_without_messages(station, cp, api):
    start(cp, "tx-e30", "Authorized")
    assert transaction_status(api, station, cp, {"transactionId": "tx-e30"}).response == {
        "messagesInQueue": False
    }


def test_TC_E_31_CSMS_transaction_status_ended_with_messages(station, cp, api):
    start(cp, "tx-e31", "Authorized")
    event(cp, "Ended", "tx-e31", "StopAuthorized", stopped_reason="Local", offline=True)
    transaction_status(api, station, cp, {"transactionId": "tx-e31"})
    assert not session("tx-e31").is_active


def test_TC_E_33_CSMS_transaction_status_without_id_with_messages(station, cp, api):
    start(cp, "tx-e33", "Authorized")
    event(cp, "Updated", "tx-e33", "MeterValuePeriodic", energy_wh=100, offline=True)
    transaction_status(api, station, cp, {})


def test_TC_E_34_CSMS_transaction_status_without_id_without_messages(station, cp, api):
    transaction_status(api, station, cp, {})


def test_TC_E_53_CSMS_sequence_number_restarts_at_each_transaction(station, cp):
    for tx in ("tx-e53-a", "tx-e53-b"):
        start(cp, tx, "Authorized", seq_no=0, energy_wh=0)
        event(cp, "Ended", tx, "StopAuthorized", stopped_reason="Local", seq_no=1, energy_wh=500)

    assert [session(tx).energy_wh for tx in ("tx-e53-a", "tx-e53-b")] == [500, 500]
    assert not ChargingSession.objects.filter(stopped_at__isnull=True).exists()

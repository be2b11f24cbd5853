"""End to end, OCPP 2.0.1: a real server process, and the ``ocpp`` library's 2.0.1 ChargePoint
over a real WebSocket. The same badges, decisions, sessions and commands as 1.6, in 2.0.1's
terms: MacAddress tokens, TransactionEvents, the device model."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from ocpp.v201 import call

from badges.models import Badge, BadgeState, EnrolledVia, InboxStatus, UnknownVehicle
from ocpp_gateway.models import Command, OcppMessage
from simulator import v201 as simulator
from simulator.v201 import mac_token
from stations.enrolment import pairing_open
from stations.models import (
    AnomalyKind,
    AutochargeProfile,
    AutochargeSetting,
    ChargingSession,
    DeviceModelVariable,
    MeterValue,
    SecurityEvent,
    TransactionAnomaly,
)
from tests.e2e.stations import Api, Online201, staff_token, wait_for
from tests.factories import BadgeFactory, CompanyFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db(transaction=True)

MAC = "A014310E004E"
MAC_TAG = f"VID:{MAC}"


def ocpp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def charge(server_url: str, station, id_token: dict, **options) -> simulator.ChargingReport:
    return asyncio.run(
        simulator.charge(
            url=f"{server_url}/ocpp",
            charge_point_id=station.charge_point_id,
            id_token=id_token,
            **options,
        )
    )


@pytest.fixture
def station(transactional_db):
    return StationFactory(charge_point_id="E2E-201-1")


@pytest.fixture
def online(server_url, station):
    connected = Online201(server_url, station)
    yield connected
    connected.close()


# --- Authorization and transactions --------------------------------------------------------


def test_known_mac_address_is_accepted_and_the_session_attributed_with_its_energy(
    server_url, station
):
    badge = BadgeFactory(rfid=MAC_TAG, company=station.company)

    report = charge(server_url, station, mac_token(MAC), energy_wh=15_000)

    assert (report.boot_status, report.authorize_status) == ("Accepted", "Accepted")
    assert report.started == {
        "status": "Accepted",
        "group_id_token": {"id_token": f"COMPANY-{station.company_id}", "type": "Central"},
    }
    session = ChargingSession.objects.get(station_transaction_id=report.transaction_id)
    assert (session.badge, session.vehicle, session.company, session.id_tag) == (
        badge,
        badge.vehicle,
        badge.company,
        MAC_TAG,
    )
    assert (session.auth_method, session.connector_id) == ("autocharge", 1)
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (
        1_000_000,
        1_015_000,
        15_000,
    )
    assert (session.stopped_at is not None, session.stop_reason) == (True, "Local")
    assert list(session.events.values_list("seq_no", "event_type")) == [
        (0, "Started"),
        (1, "Updated"),
        (2, "Updated"),
        (3, "Updated"),
        (4, "Ended"),
    ]
    station.refresh_from_db()
    assert (station.ocpp_version, station.last_boot_reason) == ("2.0.1", "PowerUp")
    logged = wait_for(OcppMessage.objects.filter(direction="in", action="Authorize").first)
    assert (logged.status, logged.ocpp_status, logged.reason, logged.id_tag) == (
        "Accepted",
        "Accepted",
        "accepted",
        MAC_TAG,
    )


@pytest.mark.parametrize(
    "value", [MAC, "VID:A014310E004E", "a0:14:31:0e:00:4e", "A0-14-31-0E-00-4E", "vid:a014310e004e"]
)
def test_every_spelling_of_a_mac_address_token_finds_the_same_autocharge_badge(
    server_url, station, value
):
    BadgeFactory(rfid=MAC_TAG, company=station.company)

    report = charge(server_url, station, {"id_token": value, "type": "MacAddress"})

    assert report.authorize_status == "Accepted"
    assert ChargingSession.objects.get().id_tag.upper().startswith("VID:")


@pytest.mark.parametrize("kind", ["ISO14443", "ISO15693", "Local", "Central"])
def test_rfid_token_types_find_rfid_badges(server_url, station, kind):
    badge = BadgeFactory(rfid="04A2B3C4D5", company=station.company)

    report = charge(server_url, station, {"id_token": "04a2b3c4d5", "type": kind})

    assert report.authorize_status == "Accepted"
    session = ChargingSession.objects.get()
    assert (session.badge, session.auth_method) == (badge, "rfid")


@pytest.mark.parametrize("kind", ["eMAID", "KeyCode", "NoAuthorization"])
def test_other_token_types_are_refused_with_the_reason(server_url, station, kind):
    BadgeFactory(rfid="04A2B3C4D5", company=station.company)

    report = charge(server_url, station, {"id_token": "04A2B3C4D5", "type": kind})

    assert report.authorize_status == "Invalid"
    logged = wait_for(OcppMessage.objects.filter(direction="in", action="Authorize").first)
    assert (logged.status, logged.ocpp_status, logged.reason) == (
        "Rejected",
        "Invalid",
        "unsupported_identifier",
    )


def test_unknown_mac_address_is_unknown_enters_the_inbox_and_is_enrolled_by_pairing(
    server_url, station, admin_user
):
    vehicle = VehicleFactory(company=station.company)
    unknown = "A014310E0AB1"

    assert charge(server_url, station, mac_token(unknown)).authorize_status == "Unknown"

    entry = UnknownVehicle.objects.get()
    assert (entry.mac, entry.id_tag, entry.status) == (unknown, f"VID:{unknown}", InboxStatus.OPEN)
    logged = wait_for(OcppMessage.objects.filter(direction="in", action="Authorize").first)
    assert (logged.status, logged.ocpp_status, logged.reason) == (
        "Rejected",
        "Unknown",
        "unknown_badge",
    )
    assert entry.sightings.get().log_entry_id == logged.pk

    pairing_open(station=station, vehicle=vehicle, minutes=10, opened_by=admin_user)
    report = charge(server_url, station, mac_token(unknown))

    assert report.authorize_status == "Accepted"
    badge = Badge.objects.get(rfid=f"VID:{unknown}")
    assert (badge.vehicle, badge.enrolled_via) == (vehicle, EnrolledVia.PAIRING)
    entry.refresh_from_db()
    assert entry.status == InboxStatus.ENROLLED
    assert ChargingSession.objects.get(authorization_status="Accepted").vehicle == vehicle


def test_badge_of_another_company_is_not_at_this_location(server_url, station):
    BadgeFactory(rfid=MAC_TAG, company=CompanyFactory())

    report = charge(server_url, station, mac_token(MAC))

    assert report.authorize_status == "NotAtThisLocation"
    logged = wait_for(OcppMessage.objects.filter(direction="in", action="Authorize").first)
    assert (logged.ocpp_status, logged.reason) == ("NotAtThisLocation", "not_permitted_at_station")


def test_disabled_and_expired_badges_are_blocked_and_expired(server_url, station):
    BadgeFactory(rfid=MAC_TAG, company=station.company, state=BadgeState.DISABLED)
    BadgeFactory(
        rfid="VID:A014310E0055",
        company=station.company,
        expires_at=timezone.now() - timedelta(hours=1),
    )

    assert charge(server_url, station, mac_token(MAC)).authorize_status == "Blocked"
    assert charge(server_url, station, mac_token("A014310E0055")).authorize_status == "Expired"


def test_an_accepted_badge_with_an_expiry_says_until_when_it_may_be_cached(server_url, station):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    BadgeFactory(rfid=MAC_TAG, company=station.company, expires_at=expires)

    report = charge(server_url, station, mac_token(MAC))

    assert report.started["cache_expiry_date_time"] == ocpp_time(expires)


def test_the_same_mac_starting_at_a_second_station_is_concurrent_tx(server_url, station):
    BadgeFactory(rfid=MAC_TAG, company=station.company)
    second = StationFactory(charge_point_id="E2E-201-2", company=station.company)
    first = Online201(server_url, station)
    try:
        first.send(
            first.station.transaction_event(
                "Started", "at-first", trigger_reason="Authorized", id_token=mac_token(MAC)
            )
        )
        report = charge(server_url, second, mac_token(MAC))
    finally:
        first.close()

    assert report.authorize_status == "ConcurrentTx"
    assert SecurityEvent.objects.get().kind == "concurrent_vid"


def test_a_replayed_started_event_makes_one_session(server_url, station, online):
    BadgeFactory(rfid=MAC_TAG, company=station.company)
    started = ocpp_time(timezone.now() - timedelta(minutes=5))

    answers = [
        online.send(
            online.station.transaction_event(
                "Started",
                "tx-replayed",
                trigger_reason="Authorized",
                id_token=mac_token(MAC),
                evse_id=1,
                energy_wh=500,
                timestamp=started,
                seq_no=0,
            )
        )
        for _ in range(3)
    ]

    assert [answer.id_token_info["status"] for answer in answers] == ["Accepted"] * 3
    session = ChargingSession.objects.get()
    assert (session.station_transaction_id, session.events.count()) == ("tx-replayed", 1)
    assert MeterValue.objects.count() == 1
    assert TransactionAnomaly.objects.get().kind == AnomalyKind.REPLAYED_START


def test_an_ended_event_sent_offline_hours_later_closes_the_session(server_url, station, online):
    BadgeFactory(rfid=MAC_TAG, company=station.company)
    started = timezone.now().replace(microsecond=0) - timedelta(hours=5)
    online.send(
        online.station.transaction_event(
            "Started",
            "tx-offline",
            trigger_reason="Authorized",
            id_token=mac_token(MAC),
            evse_id=1,
            energy_wh=2_000,
            timestamp=ocpp_time(started),
        )
    )
    # The station lost its connection an hour in; it sends what it queued, hours later.
    for minutes, register in ((30, 8_000), (60, 14_000)):
        online.send(
            online.station.transaction_event(
                "Updated",
                "tx-offline",
                trigger_reason="MeterValuePeriodic",
                energy_wh=register,
                timestamp=ocpp_time(started + timedelta(minutes=minutes)),
                offline=True,
            )
        )
    online.send(
        online.station.transaction_event(
            "Ended",
            "tx-offline",
            trigger_reason="EVCommunicationLost",
            energy_wh=20_000,
            timestamp=ocpp_time(started + timedelta(minutes=90)),
            offline=True,
            stopped_reason="EVDisconnected",
        )
    )

    session = ChargingSession.objects.get()
    assert session.stopped_at == started + timedelta(minutes=90)
    assert session.stop_received_at > started + timedelta(hours=4)
    assert (session.energy_wh, session.stop_reason) == (18_000, "EVDisconnected")
    assert list(session.events.filter(offline=True).values_list("event_type", flat=True)) == [
        "Updated",
        "Updated",
        "Ended",
    ]
    assert not TransactionAnomaly.objects.exists()


def test_a_late_event_and_a_gap_in_sequence_numbers_are_taken(server_url, station, online):
    BadgeFactory(rfid=MAC_TAG, company=station.company)
    started = timezone.now().replace(microsecond=0) - timedelta(hours=1)

    def event(event_type, seq_no, minutes, register, **options):
        return online.send(
            online.station.transaction_event(
                event_type,
                "tx-gaps",
                trigger_reason="MeterValuePeriodic",
                energy_wh=register,
                timestamp=ocpp_time(started + timedelta(minutes=minutes)),
                seq_no=seq_no,
                **options,
            )
        )

    event("Started", 0, 0, 1_000, evse_id=1, id_token=mac_token(MAC))
    # seqNo 1 and 2 never arrive; the Ended comes before an Updated that happened earlier.
    event("Ended", 5, 60, 9_000, stopped_reason="Local")
    event("Updated", 3, 20, 4_000, offline=True)

    session = ChargingSession.objects.get()
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (1_000, 9_000, 8_000)
    assert sorted(session.events.values_list("seq_no", flat=True)) == [0, 3, 5]
    assert session.meter_values.count() == 3


def test_a_transaction_started_by_the_cable_is_attributed_when_the_token_comes(
    server_url, station, online
):
    badge = BadgeFactory(rfid=MAC_TAG, company=station.company)

    started = online.send(
        online.station.transaction_event(
            "Started", "tx-cable", trigger_reason="CablePluggedIn", evse_id=2
        )
    )
    session = ChargingSession.objects.get()
    assert (started.id_token_info, session.id_tag, session.authorization_reason) == (None, "", "")

    updated = online.send(
        online.station.transaction_event(
            "Updated", "tx-cable", trigger_reason="Authorized", id_token=mac_token(MAC)
        )
    )

    assert updated.id_token_info["status"] == "Accepted"
    session.refresh_from_db()
    assert (session.badge, session.connector_id, session.authorization_reason) == (
        badge,
        2,
        "accepted",
    )


def test_meter_values_outside_a_transaction_are_stored(server_url, station, online):
    online.send(
        online.station.call(
            call.MeterValues(
                evse_id=1,
                meter_value=[
                    {
                        "timestamp": ocpp_time(timezone.now()),
                        "sampledValue": [
                            {
                                "value": 42.5,
                                "measurand": "Energy.Active.Import.Register",
                                "unitOfMeasure": {"unit": "kWh"},
                            },
                            {"value": 230.1, "measurand": "Voltage", "phase": "L1-N"},
                        ],
                    }
                ],
            )
        )
    )

    readings = set(
        MeterValue.objects.values_list("session", "connector_id", "measurand", "value", "unit")
    )
    assert readings == {
        (None, 1, "Energy.Active.Import.Register", "42.5", "kWh"),
        (None, 1, "Voltage", "230.1", ""),
    }


# --- Provisioning ------------------------------------------------------------------------------


def test_a_base_report_is_stored_as_the_station_s_device_model(server_url, station, online):
    api = Api(server_url, staff_token())

    code, _command = api.post(
        f"/stations/{station.pk}/commands/",
        {"action": "GetBaseReport", "payload": {"requestId": 7, "reportBase": "FullInventory"}},
    )

    assert code == 202
    wait_for(lambda: DeviceModelVariable.objects.count() == 6)
    threshold = DeviceModelVariable.objects.get(variable="OfflineThreshold")
    assert (threshold.component, threshold.value, threshold.mutability) == (
        "OCPPCommCtrlr",
        "60",
        "ReadWrite",
    )
    password = DeviceModelVariable.objects.get(variable="BasicAuthPassword")
    assert (password.value, password.mutability) == (None, "WriteOnly")
    code, model = api.request("GET", f"/stations/{station.pk}/device-model/")
    assert code == 200
    assert {"component": "OCPPCommCtrlr", "variable": "OfflineThreshold"}.items() <= next(
        row for row in model if row["variable"] == "OfflineThreshold"
    ).items()


def test_set_variables_from_the_command_api_reaches_the_station(server_url, station, online):
    api = Api(server_url, staff_token())
    payload = {
        "setVariableData": [
            {
                "attributeValue": "123",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "OfflineThreshold"},
            }
        ]
    }

    code, command = api.post(
        f"/stations/{station.pk}/commands/", {"action": "SetVariables", "payload": payload}
    )

    assert code == 202
    wait_for(lambda: Command.objects.get(pk=command["id"]).is_finished)
    finished = Command.objects.get(pk=command["id"])
    assert finished.state == "accepted"
    assert finished.response["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert online.station.variables[("OCPPCommCtrlr", "OfflineThreshold")][0] == "123"


def test_a_command_of_the_other_version_is_a_400(server_url, station, online):
    api = Api(server_url, staff_token())

    code, body = api.post(f"/stations/{station.pk}/commands/", {"action": "GetConfiguration"})

    assert code == 400
    assert "not an OCPP 2.0.1 command" in body["action"][0]
    assert not Command.objects.exists()


def test_station_reports_are_recorded(server_url, station, online):
    online.send(
        online.station.call(
            call.SecurityEventNotification(
                type="TamperDetectionActivated", timestamp=ocpp_time(timezone.now())
            )
        )
    )
    online.send(online.station.call(call.FirmwareStatusNotification(status="Installing")))
    online.send(online.station.call(call.LogStatusNotification(status="Uploaded", request_id=1)))
    online.send(
        online.station.call(
            call.NotifyEvent(
                generated_at=ocpp_time(timezone.now()),
                seq_no=0,
                event_data=[
                    {
                        "eventId": 1,
                        "timestamp": ocpp_time(timezone.now()),
                        "trigger": "Delta",
                        "actualValue": "Faulted",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                        "variable": {"name": "AvailabilityState"},
                    }
                ],
            )
        )
    )
    transfer = online.send(online.station.call(call.DataTransfer(vendor_id="com.example")))

    event = SecurityEvent.objects.get()
    assert (event.kind, event.severity, event.details["type"]) == (
        "station_reported",
        "critical",
        "TamperDetectionActivated",
    )
    station.refresh_from_db()
    assert (station.firmware_status, station.log_status) == ("Installing", "Uploaded")
    state = DeviceModelVariable.objects.get(variable="AvailabilityState")
    assert (state.evse_id, state.connector_id, state.value) == (1, 1, "Faulted")
    assert transfer.status == "UnknownVendorId"


# --- Autocharge configuration --------------------------------------------------------------


def test_an_autocharge_profile_of_device_model_variables_makes_the_station_ready(
    server_url, station
):
    profile = AutochargeProfile.objects.create(vendor="Simulator")
    AutochargeSetting.objects.create(profile=profile, key="AllowedAuthenticationMethods", value="x")
    AutochargeSetting.objects.create(
        profile=profile, component="AuthCtrlr", variable="AutochargeEnabled", value="true"
    )
    connected = Online201(
        server_url, station, variables={("AuthCtrlr", "AutochargeEnabled"): ("false", "ReadWrite")}
    )
    try:
        api = Api(server_url, staff_token())
        code, _body = api.post(f"/stations/{station.pk}/autocharge/enable/")
        assert code == 202
        station = wait_for(
            lambda: (
                type(station).objects.filter(pk=station.pk, autocharge_readiness="ready").first()
            )
        )
        variables = connected.station.variables
    finally:
        connected.close()

    assert variables[("AuthCtrlr", "AutochargeEnabled")][0] == "true"
    assert station.autocharge_detail == "AuthCtrlr/AutochargeEnabled = true"
    assert list(Command.objects.order_by("pk").values_list("action", flat=True)) == [
        "GetVariables",
        "SetVariables",
        "GetVariables",
    ]


# --- Station authentication and OCPP-J ------------------------------------------------------


def test_a_frame_whose_message_id_cannot_be_read_is_answered_with_minus_one(server_url, station):
    async def scenario():
        async with await simulator.connect(f"{server_url}/ocpp", station.charge_point_id) as ws:
            await ws.send("[2, 17, ")
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps([9, "abc", "Heartbeat", {}]))
            second = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return first, second

    first, second = asyncio.run(scenario())

    assert first[:3] == [4, "-1", "RpcFrameworkError"]
    assert second[:3] == [4, "abc", "MessageTypeNotSupported"]


def test_the_simulate_station_command_charges_over_201(server_url, station):
    BadgeFactory(rfid=MAC_TAG, company=station.company)
    out = StringIO()

    call_command(
        "simulate_station",
        station.charge_point_id,
        ocpp="2.0.1",
        id_tag="vid:a0:14:31:0e:00:4e",
        url=f"{server_url}/ocpp",
        stdout=out,
    )

    assert "Authorize            → Accepted" in out.getvalue()
    assert out.getvalue().rstrip().endswith("Charged.")
    assert ChargingSession.objects.get().energy_wh == 12_000

"""End to end: charging profile commands through the REST command API, answered by the ``ocpp``
library's stations, and what 2.0.1 stations send of block K. The 2.0.1 tests are named after
the OCTT 2.0.1 CSMS cases of block K they cover (the cases left out: README, OCPP 2.0.1)."""

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from ocpp_gateway.models import Command
from simulator.v201 import SimulatedStation201
from stations.models import ChargingSession, Station, StationChargingProfile
from tests.e2e.stations import Api, Online201, staff_token, station_online, wait_for
from tests.factories import BadgeFactory, StationFactory

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "K-BADGE-1"


@pytest.fixture
def api(server_url):
    return Api(server_url, staff_token())


@pytest.fixture
def station(transactional_db):
    station = StationFactory(charge_point_id="K-CP-1")
    BadgeFactory(rfid=TAG, company=station.company)
    return station


def command(api, station, action: str, payload: dict) -> Command:
    code, body = api.post(
        f"/stations/{station.pk}/commands/", {"action": action, "payload": payload}
    )
    assert code == 202, body
    return wait_for(
        lambda: Command.objects.filter(pk=body["id"], completed_at__isnull=False).first()
    )


def profile_201(profile_id: int, purpose: str, kind: str = "Absolute", **extra) -> dict:
    return {
        "id": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
        **extra,
    }


@pytest.fixture
def cp(server_url, station):
    connected = Online201(server_url, station)
    yield connected
    connected.close()


def test_TC_K_01_CSMS_set_charging_profile_tx_default_specific_evse(api, cp, station):
    sent = command(
        api,
        station,
        "SetChargingProfile",
        {"evseId": 1, "chargingProfile": profile_201(7, "TxDefaultProfile")},
    )
    assert sent.state == "accepted"
    received = cp.station.calls(Action.set_charging_profile)[-1]
    assert received["evse_id"] == 1
    period = received["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]
    assert period["start_period"] == 0  # K01.FR.31
    held = StationChargingProfile.objects.get(station=station, profile_id=7)
    assert (held.connector_id, held.purpose, str(held.limit), held.unit) == (
        1,
        "TxDefaultProfile",
        "16.0",
        "A",
    )


def test_TC_K_03_CSMS_set_charging_profile_charging_station_max_profile(api, cp, station):
    sent = command(
        api,
        station,
        "SetChargingProfile",
        {"evseId": 0, "chargingProfile": profile_201(8, "ChargingStationMaxProfile")},
    )
    assert sent.state == "accepted"
    assert StationChargingProfile.objects.get(station=station, profile_id=8).connector_id == 0


def test_TC_K_19_CSMS_set_charging_profile_recurring(api, cp, station):
    payload = profile_201(9, "TxDefaultProfile", kind="Recurring", recurrencyKind="Daily")
    payload["chargingSchedule"][0]["startSchedule"] = "2026-12-06T22:00:00Z"
    sent = command(api, station, "SetChargingProfile", {"evseId": 1, "chargingProfile": payload})
    assert sent.state == "accepted"
    received = cp.station.calls(Action.set_charging_profile)[-1]["charging_profile"]
    assert received["recurrency_kind"] == "Daily"


def test_TC_K_05_CSMS_clear_charging_profile_with_its_id(api, cp, station):
    command(
        api,
        station,
        "SetChargingProfile",
        {"evseId": 1, "chargingProfile": profile_201(11, "TxDefaultProfile")},
    )
    assert StationChargingProfile.objects.filter(station=station, profile_id=11).exists()
    cleared = command(api, station, "ClearChargingProfile", {"chargingProfileId": 11})
    assert cleared.state == "accepted"
    assert (
        cp.station.calls(Action.clear_charging_profile)[-1].get("charging_profile_criteria") is None
    )
    assert not StationChargingProfile.objects.filter(station=station, profile_id=11).exists()


def test_TC_K_04_CSMS_replace_charging_profile_with_the_same_id(api, cp, station):
    for limit in (16.0, 10.0):
        payload = profile_201(14, "TxDefaultProfile")
        payload["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] = limit
        command(api, station, "SetChargingProfile", {"evseId": 1, "chargingProfile": payload})
    held = StationChargingProfile.objects.get(station=station, profile_id=14)
    assert str(held.limit) == "10.0"


def test_TC_K_06_CSMS_clear_charging_profile_by_stack_level_and_purpose(api, cp, station):
    command(
        api,
        station,
        "SetChargingProfile",
        {"evseId": 1, "chargingProfile": profile_201(15, "TxDefaultProfile")},
    )
    cleared = command(
        api,
        station,
        "ClearChargingProfile",
        {
            "chargingProfileCriteria": {
                "evseId": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "stackLevel": 0,
            }
        },
    )
    assert cleared.state == "accepted"
    assert not StationChargingProfile.objects.filter(station=station, profile_id=15).exists()


def test_TC_K_08_CSMS_clear_charging_profile_without_previous_profile(api, cp, station):
    cleared = command(api, station, "ClearChargingProfile", {"chargingProfileId": 99})
    assert (cleared.state, cleared.ocpp_status) == ("rejected", "Unknown")


def test_TC_K_29_CSMS_get_charging_profiles_evse_0_and_the_report(api, cp, station):
    command(
        api,
        station,
        "SetChargingProfile",
        {"evseId": 0, "chargingProfile": profile_201(12, "TxDefaultProfile")},
    )
    StationChargingProfile.objects.filter(station=station).delete()  # forgotten: read it back
    asked = command(
        api,
        station,
        "GetChargingProfiles",
        {
            "requestId": 5,
            "evseId": 0,
            "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"},
        },
    )
    assert asked.state == "accepted"
    reported = wait_for(
        lambda: StationChargingProfile.objects.filter(station=station, profile_id=12).first()
    )
    assert reported.source == "reported" and reported.purpose == "TxDefaultProfile"


def test_TC_K_43_CSMS_get_composite_schedule_specific_evse(api, cp, station):
    asked = command(api, station, "GetCompositeSchedule", {"duration": 3600, "evseId": 1})
    assert asked.ocpp_status == "Rejected"  # what the simulated station answers: recorded as is


class WithoutSmartCharging(SimulatedStation201):
    """A station whose charging profiles feature is absent: the library answers CALLERROR."""

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **payload):
        from ocpp.exceptions import NotSupportedError

        raise NotSupportedError(details={"cause": "no smart charging"})


def test_TC_K_15_CSMS_set_charging_profile_not_supported_flags_the_station(
    api, server_url, station
):
    connected = Online201(server_url, station, station_class=WithoutSmartCharging)
    try:
        sent = command(
            api,
            station,
            "SetChargingProfile",
            {"evseId": 1, "chargingProfile": profile_201(13, "TxDefaultProfile")},
        )
    finally:
        connected.close()
    assert (sent.state, sent.ocpp_status) == ("failed", "NotSupported")
    assert Station.objects.get(pk=station.pk).rejects_profiles


def test_TC_K_53_CSMS_notify_ev_charging_needs_records_the_departure(cp, station):
    cp.send(
        cp.station.transaction_event(
            "Started",
            "k53",
            trigger_reason="Authorized",
            id_token={"id_token": TAG, "type": "ISO14443"},
            evse_id=1,
        )
    )
    departure = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    answer = cp.send(
        cp.station.call(
            call.NotifyEVChargingNeeds(
                evse_id=1,
                charging_needs={
                    "requested_energy_transfer": "AC_three_phase",
                    "departure_time": departure.isoformat(),
                    "ac_charging_parameters": {
                        "energy_amount": 30000,
                        "ev_min_current": 6,
                        "ev_max_current": 32,
                        "ev_max_voltage": 400,
                    },
                },
            )
        )
    )
    assert answer.status == "Accepted"  # K15.FR.02/03
    session = ChargingSession.objects.get(station_transaction_id="k53")
    assert session.departure_at == departure


def test_TC_K_48_CSMS_external_charging_limit_is_answered(cp):
    limit = cp.send(
        cp.station.call(
            call.NotifyChargingLimit(charging_limit={"charging_limit_source": "EMS"}, evse_id=1)
        )
    )
    assert isinstance(limit, call_result.NotifyChargingLimit)


def test_TC_K_50_CSMS_cleared_external_charging_limit_is_answered(cp):
    cleared = cp.send(
        cp.station.call(call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
    )
    assert isinstance(cleared, call_result.ClearedChargingLimit)


def test_notify_ev_charging_schedule_is_accepted(cp):
    schedule = cp.send(
        cp.station.call(
            call.NotifyEVChargingSchedule(
                time_base=datetime.now(UTC).isoformat(),
                evse_id=1,
                charging_schedule={
                    "id": 1,
                    "charging_rate_unit": "W",
                    "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
                },
            )
        )
    )
    assert schedule.status == "Accepted"


# --- OCPP 1.6 Smart Charging -----------------------------------------------------------------


def profile_16(profile_id: int, purpose: str, limit: float) -> dict:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def test_16_set_get_composite_and_clear_charging_profile(api, server_url, station):
    with station_online(server_url, station.charge_point_id) as (online, _):
        sent = command(
            api,
            station,
            "SetChargingProfile",
            {
                "connectorId": 0,
                "csChargingProfiles": profile_16(21, "ChargePointMaxProfile", 22000.5),
            },
        )
        assert sent.state == "accepted"
        held = StationChargingProfile.objects.get(station=station, profile_id=21)
        assert (held.purpose, str(held.limit), held.unit) == (
            "ChargePointMaxProfile",
            "22000.5",
            "W",
        )
        composite = command(
            api, station, "GetCompositeSchedule", {"connectorId": 1, "duration": 600}
        )
        assert composite.state == "accepted"
        assert (
            composite.response["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 22000.5
        )
        cleared = command(api, station, "ClearChargingProfile", {"id": 21})
        assert cleared.state == "accepted" and online.charging_profiles == {}
    assert not StationChargingProfile.objects.filter(station=station).exists()


def test_16_a_staff_profile_rejected_is_recorded_without_flagging_the_station(
    api, server_url, station
):
    with station_online(server_url, station.charge_point_id, reject_profiles=True):
        sent = command(
            api,
            station,
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": profile_16(22, "TxDefaultProfile", 7000)},
        )
    assert (sent.state, sent.ocpp_status) == ("rejected", "Rejected")
    # Refused for its content, maybe: only load balancing's own refusals flag the station.
    assert not Station.objects.get(pk=station.pk).rejects_profiles
    assert not StationChargingProfile.objects.filter(station=station).exists()


def test_16_a_profile_failing_the_schema_is_a_400(api, station):
    code, body = api.post(
        f"/stations/{station.pk}/commands/",
        {
            "action": "SetChargingProfile",
            "payload": {
                "connectorId": 1,
                "csChargingProfiles": profile_16(23, "TxProfile", 7000.05),
            },
        },
    )
    assert code == 400 and "payload" in body

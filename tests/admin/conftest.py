"""Fixtures for the admin tests: a superuser's client, in English or French, and one of each
record the admin shows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ocpp_gateway.models import Command, Direction, LogStatus, MessageType, OcppMessage
from stations.models import AuthMethod, AutochargeProfile, ChargingSession, Connector, MeterValue
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)


@pytest.fixture
def french_client(admin_client):
    """The superuser's browser, asking for French: LocaleMiddleware picks it up."""
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    return admin_client


@pytest.fixture
def english_client(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


@pytest.fixture(params=["en", "fr"])
def any_language_client(request, admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = request.param
    admin_client.language = request.param
    return admin_client


@pytest.fixture
def company(db):
    return CompanyFactory(name="Transports Martin")


@pytest.fixture
def vehicle(company):
    return VehicleFactory(company=company, license_plate="FT-123-ER")


@pytest.fixture
def station(company):
    station = StationFactory(company=company, charge_point_id="CP-DEPOT-1", name="Dépôt Nord")
    Connector.objects.create(
        station=station, connector_id=1, status="Available", error_code="NoError"
    )
    Connector.objects.create(
        station=station,
        connector_id=2,
        status="Faulted",
        error_code="GroundFailure",
        info="Earth leak",
    )
    return station


@pytest.fixture
def charging_session(station, vehicle):
    badge = BadgeFactory(company=vehicle.company, vehicle=vehicle, rfid="VID:A014310E0099")
    started = timezone.now() - timedelta(hours=1)
    session = ChargingSession.objects.create(
        station=station,
        connector_id=1,
        id_tag=badge.rfid,
        badge=badge,
        vehicle=vehicle,
        company=vehicle.company,
        auth_method=AuthMethod.AUTOCHARGE,
        authorization_status="Accepted",
        authorization_reason="accepted",
        meter_start=1000,
        meter_stop=13345,
        energy_wh=12345,
        started_at=started,
        stopped_at=started + timedelta(minutes=40),
        stop_reason="EVDisconnected",
    )
    for minutes, value in [(10, "4321"), (20, "8765")]:
        MeterValue.objects.create(
            station=station,
            session=session,
            connector_id=1,
            timestamp=started + timedelta(minutes=minutes),
            value=value,
            unit="Wh",
        )
    return session


def authorize_log(*, station, id_tag, status, reason, ocpp_status, action="Authorize", **extra):
    """An Authorize request as the gateway logs it, with the decision noted on it."""
    return OcppMessage.objects.create(
        station=station,
        charge_point_id=station.charge_point_id,
        direction=extra.pop("direction", Direction.IN),
        message_type=MessageType.CALL,
        unique_id=extra.pop("unique_id", "42"),
        action=action,
        status=status,
        ocpp_status=ocpp_status,
        reason=reason,
        id_tag=id_tag,
        payload=extra.pop("payload", {"idTag": id_tag}),
        created_at=extra.pop("created_at", timezone.now()),
        **extra,
    )


@pytest.fixture
def unknown_vehicle_log(station):
    """The seed's failed Autocharge: a vehicle nobody created a badge for yet."""
    return authorize_log(
        station=station,
        id_tag="VID:A014310E004E",
        status=LogStatus.REJECTED,
        reason="unknown_badge",
        ocpp_status="Invalid",
    )


@pytest.fixture
def every_record(company, vehicle, station, charging_session, unknown_vehicle_log):
    """One record of each model the admin shows, keyed by model name."""
    group = AuthorizationGroupFactory(company=company, name="Dépôts partagés")
    group.stations.add(station)
    command = Command.objects.create(
        station=station,
        action="Reset",
        payload={"type": "Soft"},
        state="accepted",
        ocpp_status="Accepted",
        response={"status": "Accepted"},
    )
    # One of each record: the seeded Kempower profile, the others set aside.
    AutochargeProfile.objects.exclude(vendor="Kempower").delete()
    return {
        "company": company,
        "vehicle": vehicle,
        "authorizationgroup": group,
        "badge": charging_session.badge,
        "station": station,
        "chargingsession": charging_session,
        "ocppmessage": unknown_vehicle_log,
        "command": command,
        "autochargeprofile": AutochargeProfile.objects.get(vendor="Kempower"),
    }

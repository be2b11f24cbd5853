"""Reservations through the REST API and the admin: the rules (400), tenancy (a company
reserves only with its own badges, at stations it may charge at), the station being away
(409), the commands recorded, cancelling; the admin pages in French and English."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from badges.models import Reservation, ReservationStatus
from ocpp_gateway.models import Command, CommandState
from ocpp_gateway.operations.commands import commands_fail
from ocpp_gateway.operations.reservations import record_answer, reservations_settle_lost, reserve
from stations.models import ConnectionState, OcppVersion
from stations.reservations import reservations_expire
from tests.factories import AuthorizationGroupFactory, BadgeFactory, StationFactory
from tests.tenancy.conftest import make_staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/reservations/"


@pytest.fixture
def station():
    return StationFactory(connection_state=ConnectionState.CONNECTED)


@pytest.fixture
def badge(station):
    return BadgeFactory(company=station.company)


@pytest.fixture
def staff(station):
    return make_staff("depot-staff", station.company)


@pytest.fixture
def api(staff) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff)
    return client


def later(minutes: int = 30) -> str:
    return (timezone.now() + timedelta(minutes=minutes)).isoformat()


def body(station, badge, **fields) -> dict:
    return {
        "station": station.pk,
        "connector_id": 1,
        "badge": badge.pk,
        "expires_at": later(),
        **fields,
    }


def test_a_reservation_posted_is_recorded_requested_and_sent_as_reserve_now(
    api, station, badge, staff
):
    response = api.post(URL, body(station, badge), format="json")
    assert response.status_code == 201, response.content
    reservation = Reservation.objects.get()
    assert response.json()["id"] == reservation.pk
    assert (reservation.status, reservation.reservation_id) == ("requested", 1)
    assert reservation.created_by == staff
    command = Command.objects.get()
    assert command.action == "ReserveNow"
    assert command.payload["connectorId"] == 1
    assert command.payload["idTag"] == badge.rfid
    assert command.payload["reservationId"] == 1
    # The next one at the station gets the next id.
    api.post(URL, body(station, badge, connector_id=2), format="json")
    assert Reservation.objects.first().reservation_id == 2


def test_a_2_0_1_station_is_sent_its_protocol_s_reserve_now(api, station, badge):
    station.ocpp_version = OcppVersion.V201
    station.save()
    api.post(URL, body(station, badge, connector_id=0, connector_type="cCCS2"), format="json")
    payload = Command.objects.get().payload
    assert payload["id"] == 1
    assert "evseId" not in payload
    assert payload["connectorType"] == "cCCS2"
    assert payload["idToken"] == {"idToken": badge.rfid.removeprefix("VID:"), "type": "MacAddress"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"connector_id": -1}, "connector_id"),
        ({"connector_type": "cCCS2"}, "connector_type"),  # a 1.6 station
        ({"expires_at": "tomorrow"}, "expires_at"),
    ],
)
def test_what_the_rules_refuse_is_a_400_on_its_field(api, station, badge, fields, field):
    response = api.post(URL, body(station, badge, **fields), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Reservation.objects.exists()
    assert not Command.objects.exists()


def test_a_disabled_badge_cannot_reserve(api, station, badge):
    badge.state = "disabled"
    badge.save()
    response = api.post(URL, body(station, badge), format="json")
    assert response.status_code == 400
    assert "badge" in response.json()


def test_a_station_that_is_not_connected_is_a_409_and_nothing_is_recorded(api, station, badge):
    station.connection_state = ConnectionState.DISCONNECTED
    station.save()
    response = api.post(URL, body(station, badge), format="json")
    assert response.status_code == 409
    assert "not connected" in response.json()["detail"]
    assert not Reservation.objects.exists()


def test_a_company_reserves_only_with_its_badges_at_stations_it_may_charge_at(api, station, badge):
    elsewhere = StationFactory(connection_state=ConnectionState.CONNECTED)
    foreign_badge = BadgeFactory(company=elsewhere.company)
    refused = api.post(URL, body(elsewhere, badge), format="json")
    assert refused.status_code == 400
    assert "station" in refused.json()
    refused = api.post(URL, body(station, foreign_badge), format="json")
    assert refused.status_code == 400
    assert "badge" in refused.json()
    # A partner's station in one of the company's groups: its badges may charge, so reserve.
    group = AuthorizationGroupFactory(company=station.company)
    group.stations.add(elsewhere)
    badge.groups.add(group)
    assert api.post(URL, body(elsewhere, badge), format="json").status_code == 201


def test_a_company_sees_only_its_badges_reservations(api, station, badge):
    mine = reserve(
        station=station, badge=badge, connector_id=1, expires_at=timezone.now() + timedelta(hours=1)
    )
    partner = StationFactory(connection_state=ConnectionState.CONNECTED)
    theirs = reserve(
        station=partner,
        badge=BadgeFactory(company=partner.company),
        connector_id=1,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    listed = api.get(URL).json()["results"]
    assert [item["id"] for item in listed] == [mine.pk]
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.post(f"{URL}{theirs.pk}/cancel/").status_code == 404
    assert api.get(URL, {"status": "requested"}).json()["count"] == 1
    assert api.get(URL, {"status": "cancelled"}).json()["count"] == 0


def test_cancelling_stops_the_hold_at_once_and_sends_cancel_reservation(api, station, badge):
    reservation = reserve(
        station=station, badge=badge, connector_id=1, expires_at=timezone.now() + timedelta(hours=1)
    )
    response = api.post(f"{URL}{reservation.pk}/cancel/")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    cancel_command = Command.objects.get(action="CancelReservation")
    assert cancel_command.payload == {"reservationId": reservation.reservation_id}
    again = api.post(f"{URL}{reservation.pk}/cancel/")
    assert again.status_code == 409


def test_the_station_s_answer_settles_the_reservation(station, badge):
    reservation = reserve(
        station=station, badge=badge, connector_id=1, expires_at=timezone.now() + timedelta(hours=1)
    )
    command = Command.objects.get()
    command.state, command.ocpp_status = CommandState.REJECTED, "Occupied"
    record_answer(command)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.OCCUPIED


def test_a_reservation_with_no_answer_is_failed(station, badge):
    reservation = reserve(
        station=station, badge=badge, connector_id=1, expires_at=timezone.now() + timedelta(hours=1)
    )
    command = Command.objects.get()
    command.state, command.detail = CommandState.TIMEOUT, "No answer within 30 s."
    record_answer(command)
    reservation.refresh_from_db()
    assert (reservation.status, reservation.detail) == ("failed", "No answer within 30 s.")


def test_a_reserve_now_lost_with_its_connection_fails_its_reservation(station, badge):
    reservation = reserve(
        station=station, badge=badge, connector_id=1, expires_at=timezone.now() + timedelta(hours=1)
    )
    # Still on its way: the reservation waits for the answer.
    assert reservations_settle_lost(older_than=timedelta(0)) == 0
    commands_fail(command_ids=[Command.objects.get().pk], detail="The station disconnected.")
    assert reservations_settle_lost(older_than=timedelta(minutes=1)) == 0  # not yet that old
    assert reservations_settle_lost(older_than=timedelta(0)) == 1
    reservation.refresh_from_db()
    assert (reservation.status, reservation.detail) == ("failed", "The station disconnected.")


def test_the_sweep_marks_reservations_past_their_end_expired(station, badge):
    reservation = reserve(
        station=station, badge=badge, connector_id=1, expires_at=timezone.now() + timedelta(hours=1)
    )
    assert reservations_expire() == 0
    assert reservations_expire(now=timezone.now() + timedelta(hours=2)) == 1
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED


# --- Admin -------------------------------------------------------------------------------


@pytest.fixture
def admin(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    ("language", "title", "reserve_label"),
    [("fr", "Réserver un connecteur", "Réserver"), ("en", "Reserve a connector", "Reserve")],
)
def test_the_admin_reserves_with_a_form(admin, station, badge, language, title, reserve_label):
    admin.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    page = admin.get("/admin/badges/reservation/add/")
    assert page.status_code == 200
    assert title in page.content.decode()
    assert f'value="{reserve_label}"' in page.content.decode()
    response = admin.post(
        "/admin/badges/reservation/add/",
        {"station": station.pk, "connector_id": 1, "badge": badge.pk, "minutes": 20},
    )
    assert response.status_code == 302
    reservation = Reservation.objects.get()
    assert reservation.expires_at > timezone.now() + timedelta(minutes=19)
    assert Command.objects.get().action == "ReserveNow"


def test_the_admin_form_shows_what_the_rules_refuse(admin, station, badge):
    station.ocpp_version = OcppVersion.V16
    station.save()
    response = admin.post(
        "/admin/badges/reservation/add/",
        {
            "station": station.pk,
            "connector_id": 1,
            "badge": badge.pk,
            "minutes": 20,
            "connector_type": "cType2",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 200
    assert "Seules les bornes OCPP 2.0.1 réservent par type de connecteur." in (
        response.content.decode()
    )
    assert not Reservation.objects.exists()


def test_the_admin_lists_filters_and_cancels(admin, station, badge):
    reservation = reserve(
        station=station, badge=badge, connector_id=1, expires_at=timezone.now() + timedelta(hours=1)
    )
    page = admin.get(
        "/admin/badges/reservation/", {"status": "requested"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert page.status_code == 200
    content = page.content.decode()
    assert "Demandée, en attente de la borne" in content
    assert "Annuler les réservations sélectionnées" in content
    response = admin.post(
        "/admin/badges/reservation/",
        {"action": "cancel_reservations", "_selected_action": [reservation.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    assert Command.objects.filter(action="CancelReservation").count() == 1
    assert admin.get(f"/admin/badges/reservation/{reservation.pk}/change/").status_code == 200

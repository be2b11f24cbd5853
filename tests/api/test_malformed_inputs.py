"""Malformed input is a 400 with a message, never a 500: JSON nested absurdly deep, integers past
what their database columns hold, dates at the ends of the calendar."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import StationFactory, VehicleFactory, accepted_session

pytestmark = pytest.mark.django_db

HUGE = 2**63  # one past a 64-bit column; 2**31 is past a 32-bit one


@pytest.fixture
def station():
    return StationFactory(charge_point_id="CP-MALFORMED")


@pytest.fixture
def vehicle(station):
    return VehicleFactory(company=station.company, license_plate="MF-001-AA")


def post_raw(api, url: str, body: str):
    return api.generic("POST", url, body, content_type="application/json")


# --- JSON nesting -------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 1_000])
def test_json_nested_too_deep_is_a_400(api, depth):
    response = post_raw(api, "/api/v1/companies/", "[" * depth + "]" * depth)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_deep_json_inside_a_valid_body_is_a_400(api, station):
    payload = '{"key": "AuthorizationKey", "value": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}"
    body = '{"action": "ChangeConfiguration", "payload": ' + payload + "}"

    response = post_raw(api, f"/api/v1/stations/{station.pk}/commands/", body)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_the_limit_is_64_levels(api):
    def nested(depth: int) -> str:
        return '{"name": "Deep", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    at_the_limit = post_raw(api, "/api/v1/companies/", nested(64))
    past_it = post_raw(api, "/api/v1/companies/", nested(65))

    assert at_the_limit.status_code == 201, at_the_limit.content  # the unknown key is ignored
    assert past_it.status_code == 400
    assert past_it.json() == {"detail": "The JSON is nested deeper than 64 levels."}


def test_json_of_ordinary_depth_still_goes_through(api):
    response = api.post("/api/v1/companies/", {"name": "Nested Ltd"}, format="json")

    assert response.status_code == 201, response.content


def test_the_nesting_message_is_in_french(api):
    depth = 100_000
    response = api.generic(
        "POST",
        "/api/v1/companies/",
        "[" * depth + "]" * depth,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 400
    assert "imbriqué" in response.json()["detail"]


# --- Integers past their columns --------------------------------------------------------------


@pytest.mark.parametrize("connector_id", [HUGE, 2**31])
def test_a_pairing_connector_past_its_column_is_a_400(api, station, vehicle, connector_id):
    response = api.post(
        f"/api/v1/stations/{station.pk}/pairing/",
        {"vehicle": vehicle.pk, "connector_id": connector_id},
        format="json",
    )

    assert response.status_code == 400
    assert "connector_id" in response.json()


def test_pairing_minutes_past_any_integer_are_a_400(api, station, vehicle):
    response = api.post(
        f"/api/v1/stations/{station.pk}/pairing/",
        {"vehicle": vehicle.pk, "minutes": HUGE},
        format="json",
    )

    assert response.status_code == 400
    assert "minutes" in response.json()


@pytest.mark.parametrize("what", ["close", "correct"])
def test_session_energy_past_its_column_is_a_400(api, what):
    session = accepted_session(
        meter_start=0, started_at=timezone.now() - timedelta(hours=2), energy_wh=None
    )
    if what == "correct":
        session.stopped_at = timezone.now() - timedelta(hours=1)
        session.save()

    response = api.post(
        f"/api/v1/sessions/{session.pk}/{what}/",
        {"reason": "meter lost", "energy_wh": HUGE},
        format="json",
    )

    assert response.status_code == 400
    assert "energy_wh" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/stations/{HUGE}/",
        f"/api/v1/sessions/{HUGE}/",
        f"/api/v1/vehicles/?company={HUGE}",
        f"/api/v1/sessions/?station={HUGE}",
    ],
)
def test_ids_past_any_integer_in_urls_are_not_a_500(api, url):
    assert api.get(url).status_code in (400, 404)


@pytest.mark.parametrize("field", ["company", "vehicle"])
def test_a_relation_past_any_integer_is_a_400(api, station, vehicle, field):
    body = {"company": station.company.pk, "license_plate": "MF-002-AA", field: HUGE}
    url = "/api/v1/vehicles/" if field == "company" else f"/api/v1/stations/{station.pk}/pairing/"

    response = api.post(url, body, format="json")

    assert response.status_code == 400
    assert field in response.json()


# --- Dates at the ends of the calendar ----------------------------------------------------------


@pytest.mark.parametrize("stopped_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_session_closed_at_the_ends_of_the_calendar_is_a_400(api, stopped_at):
    session = accepted_session(meter_start=0, started_at=timezone.now() - timedelta(hours=2))

    response = api.post(
        f"/api/v1/sessions/{session.pk}/close/",
        {"reason": "stuck", "stopped_at": stopped_at},
        format="json",
    )

    assert response.status_code == 400
    assert "stopped_at" in response.json()

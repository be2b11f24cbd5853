"""POST /api/v1/sessions/{id}/close/ and /correct/: staff end a stuck session or correct its
energy, with a reason; who, when and why are part of the session's representation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from stations.models import ChargingSession
from stations.services import STAFF_STOP_REASON
from tests.factories import CompanyFactory, accepted_session

pytestmark = pytest.mark.django_db

PERM = "stations.correct_chargingsession"


def url(session, what: str) -> str:
    return f"/api/v1/sessions/{session.pk}/{what}/"


def open_session(company=None, **fields) -> ChargingSession:
    return accepted_session(
        company=company,
        meter_start=1_000,
        started_at=timezone.now() - timedelta(hours=3),
        **fields,
    )


def test_closing_a_stuck_session_records_who_when_and_why(staff_client):
    company = CompanyFactory()
    session = open_session(company)
    client = staff_client(PERM, company=company)
    ended = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)

    response = client.post(
        url(session, "close"),
        {"reason": "Station lost the transaction", "energy_wh": 8_000, "stopped_at": ended},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stop_reason"], body["energy_wh"], body["meter_start"]) == (
        STAFF_STOP_REASON,
        8_000,
        1_000,
    )
    [correction] = body["corrections"]
    assert correction["kind"] == "close"
    assert correction["reason"] == "Station lost the transaction"
    assert correction["corrected_by"] == "staff"
    assert (correction["energy_wh_before"], correction["energy_wh_after"]) == (None, 8_000)
    session.refresh_from_db()
    assert session.stopped_at == ended


def test_the_session_list_shows_corrections(api, superuser):
    session = open_session()
    assert api.post(url(session, "close"), {"reason": "Stuck"}, format="json").status_code == 200

    rows = api.get("/api/v1/sessions/").json()["results"]

    assert rows[0]["corrections"][0]["corrected_by"] == superuser.username


def test_closing_needs_a_reason(api):
    session = open_session()

    response = api.post(url(session, "close"), {"energy_wh": 5}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    session.refresh_from_db()
    assert session.is_active


def test_closing_a_closed_session_is_a_conflict(api):
    session = open_session(stopped_at=timezone.now(), meter_stop=2_000, energy_wh=1_000)

    response = api.post(url(session, "close"), {"reason": "again"}, format="json")

    assert response.status_code == 409


def test_correcting_a_closed_session_energy_keeps_the_readings(api):
    session = open_session(stopped_at=timezone.now(), meter_stop=2**63 - 1)

    response = api.post(
        url(session, "correct"), {"reason": "Read on site", "energy_wh": 4_200}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["energy_wh"], body["meter_stop"]) == (4_200, 2**63 - 1)
    assert body["corrections"][0]["kind"] == "energy"


def test_correcting_an_open_session_is_a_conflict(api):
    response = api.post(
        url(open_session(), "correct"), {"reason": "x", "energy_wh": 1}, format="json"
    )
    assert response.status_code == 409


def test_an_impossible_energy_is_refused(api):
    session = open_session(stopped_at=timezone.now())
    response = api.post(
        url(session, "correct"), {"reason": "x", "energy_wh": 10**15}, format="json"
    )
    assert response.status_code == 400
    assert "energy_wh" in response.json()


def test_staff_without_the_permission_cannot_close(staff_client):
    company = CompanyFactory()
    session = open_session(company)
    client = staff_client("stations.view_chargingsession", company=company)

    response = client.post(url(session, "close"), {"reason": "Stuck"}, format="json")

    assert response.status_code == 403
    session.refresh_from_db()
    assert session.is_active


def test_another_companys_session_is_not_found(staff_client):
    mine, theirs = CompanyFactory(), CompanyFactory()
    session = open_session(theirs)
    client = staff_client(PERM, company=mine)

    for what, body in [("close", {"reason": "x"}), ("correct", {"reason": "x", "energy_wh": 1})]:
        assert client.post(url(session, what), body, format="json").status_code == 404
    session.refresh_from_db()
    assert session.is_active and not session.corrections.exists()

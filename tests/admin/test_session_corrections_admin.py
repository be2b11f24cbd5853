"""The "close or correct the energy" action on charging sessions: the one way staff change a
session in the admin, recorded with who, when and why, the station's values still shown."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from fleet.models import StaffMembership
from stations.models import ChargingSession, CorrectionKind
from stations.services import STAFF_STOP_REASON
from tests.factories import BadgeFactory, CompanyFactory, StationFactory

CHANGELIST = reverse("admin:stations_chargingsession_changelist")


def change_url(session) -> str:
    return reverse("admin:stations_chargingsession_change", args=[session.pk])


@pytest.fixture
def stuck_session(charging_session) -> ChargingSession:
    ChargingSession.objects.filter(pk=charging_session.pk).update(
        stopped_at=None, meter_stop=None, energy_wh=None
    )
    charging_session.refresh_from_db()
    return charging_session


def act(client, session, **data):
    return client.post(
        CHANGELIST, {"action": "close_or_correct", "_selected_action": [session.pk], **data}
    )


def test_the_action_asks_for_a_reason_first(any_language_client, stuck_session):
    response = act(any_language_client, stuck_session)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/autocharge/action_form.html"
    assert 'name="reason"' in response.content.decode()
    stuck_session.refresh_from_db()
    assert stuck_session.is_active


def test_closing_a_stuck_session_from_the_admin_records_who_when_and_why(
    any_language_client, stuck_session
):
    response = act(
        any_language_client, stuck_session, confirm="yes", reason="Station replaced", energy_wh=""
    )

    assert response.status_code == 302
    stuck_session.refresh_from_db()
    assert (stuck_session.stop_reason, stuck_session.energy_wh) == (STAFF_STOP_REASON, None)
    [correction] = stuck_session.corrections.all()
    assert (correction.kind, correction.reason, correction.corrected_by.username) == (
        CorrectionKind.CLOSE,
        "Station replaced",
        "admin",
    )

    page = any_language_client.get(change_url(stuck_session))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Station replaced" in content
    assert "1000" in content or "1 000" in content  # the station's meter start, as it sent it


def test_a_reason_is_required(english_client, stuck_session):
    response = act(english_client, stuck_session, confirm="yes", reason="")

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    stuck_session.refresh_from_db()
    assert stuck_session.is_active


def test_correcting_a_closed_session_energy_from_the_admin(english_client, charging_session):
    response = act(
        english_client, charging_session, confirm="yes", reason="Meter read", energy_wh="5000"
    )

    assert response.status_code == 302
    charging_session.refresh_from_db()
    assert charging_session.energy_wh == 5000
    correction = charging_session.corrections.get()
    assert (correction.energy_wh_before, correction.energy_wh_after) == (12345, 5000)


def staff_browser(client, company, *perms):
    user = get_user_model().objects.create_user(username="clerk", password="x", is_staff=True)
    StaffMembership.objects.create(user=user, company=company)
    for codename in ["view_chargingsession", *perms]:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="stations", codename=codename)
        )
    client.force_login(user)
    return client


def test_staff_without_the_permission_do_not_get_the_action(client, stuck_session):
    browser = staff_browser(client, stuck_session.company)

    response = act(browser, stuck_session, confirm="yes", reason="x")

    stuck_session.refresh_from_db()
    assert stuck_session.is_active
    assert "close_or_correct" not in browser.get(CHANGELIST).content.decode()
    assert response.status_code in {200, 302}


def test_staff_cannot_close_another_companys_session(client, db):
    badge = BadgeFactory()
    theirs = ChargingSession.objects.create(
        station=StationFactory(company=badge.company),
        connector_id=1,
        id_tag=badge.rfid,
        badge=badge,
        company=badge.company,
        authorization_status="Accepted",
        authorization_reason="ok",
        started_at=timezone.now() - timedelta(hours=1),
    )
    browser = staff_browser(client, CompanyFactory(), "correct_chargingsession")

    act(browser, theirs, confirm="yes", reason="x")

    theirs.refresh_from_db()
    assert theirs.is_active and not theirs.corrections.exists()


def test_the_action_and_its_page_speak_french(french_client, stuck_session):
    assert "Clore ou corriger l’énergie…" in french_client.get(CHANGELIST).content.decode()

    page = act(french_client, stuck_session).content.decode()

    assert "Clore la session" in page
    assert "La borne n’a jamais terminé cette session." in page

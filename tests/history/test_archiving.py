"""Records with history are archived, not deleted: staff are refused the delete with a message
saying so (admin and API, English and French), archive instead, and superusers still delete."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from badges.models import Badge, BadgeState
from fleet.models import Company, Vehicle
from fleet.services import vehicle_save
from stations.models import ChargingSession, Station
from supervision import archiving
from tests.factories import BadgeFactory, VehicleFactory
from tests.history.conftest import api, web

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Admin ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "cannot be deleted: charging sessions name it"), ("fr", "Archivez-le plutôt")],
)
def test_staff_are_refused_deleting_a_vehicle_with_sessions_and_told_to_archive_it(
    depot, alpha_staff, language, says
):
    vehicle = depot.alpha_badge.vehicle
    url = reverse("admin:fleet_vehicle_delete", args=[vehicle.pk])

    response = web(alpha_staff).post(url, {"post": "yes"}, headers={"accept-language": language})

    assert response.status_code == 302
    assert response.url == reverse("admin:fleet_vehicle_change", args=[vehicle.pk])
    [message] = _messages(response)
    assert says in message
    assert "AA-001-AA" in message
    assert Vehicle.objects.filter(pk=vehicle.pk).exists()


def test_staff_are_refused_deleting_selected_badges_when_one_has_sessions(depot, alpha_staff):
    unused = BadgeFactory(company=depot.alpha, rfid="VID:A014310E0003")

    response = web(alpha_staff).post(
        reverse("admin:badges_badge_changelist"),
        {"action": "delete_selected", "_selected_action": [unused.pk, depot.alpha_badge.pk]},
    )

    assert response.status_code == 302
    [message] = _messages(response)
    assert "VID:A014310E0001" in message and "VID:A014310E0003" not in message
    assert "Archive (keeps the history, stops charging)" in message
    assert Badge.objects.filter(pk__in=[unused.pk, depot.alpha_badge.pk]).count() == 2


def test_staff_still_delete_a_badge_without_sessions(depot, alpha_staff):
    unused = BadgeFactory(company=depot.alpha, rfid="VID:A014310E0003")

    response = web(alpha_staff).post(
        reverse("admin:badges_badge_delete", args=[unused.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Badge.objects.filter(pk=unused.pk).exists()


def test_a_superuser_deletes_a_badge_with_sessions_which_keep_what_they_recorded(depot, superuser):
    response = web(superuser).post(
        reverse("admin:badges_badge_delete", args=[depot.alpha_badge.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    session = ChargingSession.objects.get(pk=depot.alpha_session.pk)
    assert session.badge is None
    assert (session.badge_rfid, session.badge_visual_number, session.usage) == (
        "VID:A014310E0001",
        "A014310E0001",
        "professional",
    )


def test_the_archive_action_archives_disables_and_deactivates(depot, alpha_staff):
    client = web(alpha_staff)
    badge, vehicle = depot.alpha_badge, depot.alpha_badge.vehicle

    client.post(
        reverse("admin:badges_badge_changelist"),
        {"action": "archive_selected", "_selected_action": [badge.pk]},
    )
    response = client.post(
        reverse("admin:fleet_vehicle_changelist"),
        {"action": "archive_selected", "_selected_action": [vehicle.pk]},
        headers={"accept-language": "fr"},
    )

    assert _messages(response) == ["1 record archived.", "1 élément archivé."]
    badge.refresh_from_db()
    vehicle.refresh_from_db()
    assert badge.archived_at is not None and badge.state == BadgeState.DISABLED
    assert vehicle.archived_at is not None and vehicle.active is False
    listed = client.get(reverse("admin:fleet_vehicle_changelist"), {"archived": "yes"})
    assert [row.pk for row in listed.context["cl"].result_list] == [vehicle.pk]


def test_archived_vehicles_are_offered_in_no_picker_of_the_admin(depot, alpha_staff):
    archived = depot.alpha_badge.vehicle
    archiving.archive(instance=archived, save=lambda vehicle: vehicle_save(vehicle=vehicle))
    other = VehicleFactory(company=depot.alpha, license_plate="AA-003-AA")
    client = web(alpha_staff)

    form = client.get(reverse("admin:badges_badge_add")).context["adminform"].form
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "badges", "model_name": "badge", "field_name": "vehicle"},
    ).json()
    kept = client.get(reverse("admin:badges_badge_change", args=[depot.alpha_badge.pk]))

    assert list(form.fields["vehicle"].queryset) == [other]
    assert [item["id"] for item in autocomplete["results"]] == [str(other.pk)]
    # A badge already pointing at it keeps it.
    assert archived in kept.context["adminform"].form.fields["vehicle"].queryset


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "language", "says"),
    [
        ("/api/v1/vehicles/{vehicle}/", "en", "Archive it instead (POST http://testserver"),
        ("/api/v1/badges/{badge}/", "fr", "Archivez-le plutôt (POST http://testserver"),
        ("/api/v1/stations/{station}/", "en", "/archive/"),
        ("/api/v1/companies/{company}/", "fr", "ne peut pas être supprimé"),
    ],
)
def test_staff_deleting_a_record_with_sessions_get_a_409_saying_to_archive_it(
    depot, alpha_staff, url, language, says
):
    ids = {
        "vehicle": depot.alpha_badge.vehicle_id,
        "badge": depot.alpha_badge.pk,
        "station": depot.station.pk,
        "company": depot.alpha.pk,
    }

    response = api(alpha_staff).delete(url.format(**ids), headers={"accept-language": language})

    assert response.status_code == 409
    assert says in response.json()["detail"]
    assert Vehicle.objects.count() == 2 and Badge.objects.count() == 2
    assert Station.objects.count() == 1 and Company.objects.count() == 2


def test_the_archive_endpoint_archives_and_restore_offers_it_again(depot, alpha_staff):
    client = api(alpha_staff)
    vehicle = depot.alpha_badge.vehicle_id

    archived = client.post(f"/api/v1/vehicles/{vehicle}/archive/")
    restored = client.post(f"/api/v1/vehicles/{vehicle}/restore/")

    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert archived.json()["active"] is False
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert restored.json()["active"] is False  # enabled again by staff, on purpose


def test_archiving_needs_the_change_permission(depot, alpha_staff):
    alpha_staff.user_permissions.remove(
        *alpha_staff.user_permissions.filter(codename="change_vehicle")
    )

    response = api(alpha_staff).post(f"/api/v1/vehicles/{depot.alpha_badge.vehicle_id}/archive/")

    assert response.status_code == 403


def test_an_archived_company_is_not_offered_to_new_records_but_kept_by_old_ones(depot, superuser):
    client = api(superuser)
    client.post(f"/api/v1/companies/{depot.beta.pk}/archive/")

    created = client.post(
        "/api/v1/vehicles/", {"company": depot.beta.pk, "license_plate": "BB-9"}, format="json"
    )
    edited = client.patch(
        f"/api/v1/vehicles/{depot.beta_badge.vehicle_id}/", {"make": "Kia"}, format="json"
    )

    assert created.status_code == 400
    assert "company" in created.json()
    assert edited.status_code == 200


@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "An archived badge stays disabled"), ("fr", "Un badge archivé reste désactivé")],
)
def test_an_archived_badge_cannot_be_enabled_until_restored(depot, alpha_staff, language, says):
    client, url = api(alpha_staff), f"/api/v1/badges/{depot.alpha_badge.pk}/"
    client.post(f"{url}archive/")

    refused = client.patch(
        url, {"state": "enabled"}, format="json", headers={"accept-language": language}
    )
    client.post(f"{url}restore/")
    enabled = client.patch(url, {"state": "enabled"}, format="json")

    assert refused.status_code == 400
    assert says in str(refused.json())
    assert enabled.status_code == 200

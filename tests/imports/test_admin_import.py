"""The admin's import of vehicles and badges: 300 rows from CSV or Excel, a preview that lists
every row and writes nothing, all or nothing, then the confirmation that writes through the
services (history, inbox, authorization caches)."""

import io

import pytest
from openpyxl import load_workbook

from badges.models import AuthorizationChange, Badge, BadgeUsage, InboxStatus, UnknownVehicle
from fleet.models import Vehicle
from supervision.history import ChangeSource
from tests.factories import CompanyFactory, VehicleFactory
from tests.imports import files

FORMAT_INDEX = {"csv": "0", "xlsx": "1"}
VEHICLE_IMPORT = "/admin/fleet/vehicle/import/"
BADGE_IMPORT = "/admin/badges/badge/import/"


def preview(client, url, file_format, upload):
    response = client.post(
        url, {"resource": "0", "format": FORMAT_INDEX[file_format], "import_file": upload}
    )
    assert response.status_code == 200
    return response


def confirm(client, url, response):
    form = response.context["confirm_form"]
    return client.post(url.replace("/import/", "/process_import/"), form.initial)


def errors_of(response) -> dict[int, dict]:
    return {row.row: row.errors for row in response.context["row_outcomes"] if row.errors}


@pytest.fixture
def company(db):
    return CompanyFactory(name="Transports Martin")


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_300_vehicles_and_badges_previewed_refused_then_confirmed(
    admin_client, company, file_format
):
    # An unknown vehicle the fleet's stations refused: the import enrols it.
    UnknownVehicle.objects.create(
        company=company,
        mac="A014310F0005",
        id_tag="VID:A014310F0005",
        first_seen_at="2026-01-01T08:00Z",
        last_seen_at="2026-01-01T08:00Z",
        attempts=2,
        last_reason="unknown",
    )
    vehicles = files.vehicle_rows(company.name)
    vehicles[41][1] = vehicles[2][1]  # row 42 repeats row 3's plate
    response = preview(
        admin_client,
        VEHICLE_IMPORT,
        file_format,
        files.upload(file_format, files.VEHICLE_HEADERS, vehicles),
    )
    assert "confirm_form" not in response.context
    assert errors_of(response) == {
        42: {"license_plate": ["GH-003-JK is already on row 3 of this file."]}
    }
    outcomes = response.context["row_outcomes"]
    assert len(outcomes) == 300
    assert [row.outcome for row in outcomes].count("created") == 299
    assert Vehicle.objects.count() == 0

    vehicles = files.vehicle_rows(company.name)
    upload = files.upload(file_format, files.VEHICLE_HEADERS, vehicles, french=True)
    response = preview(admin_client, VEHICLE_IMPORT, file_format, upload)
    assert errors_of(response) == {}
    assert Vehicle.objects.count() == 0  # a preview writes nothing
    response = confirm(admin_client, VEHICLE_IMPORT, response)
    assert response.status_code == 302
    assert Vehicle.objects.filter(company=company).count() == 300
    vehicle = Vehicle.objects.get(license_plate="GH-002-JK")
    assert (vehicle.charging_priority, vehicle.active) == (3, True)
    assert vehicle.history.get().history_source == ChangeSource.IMPORT

    badges = files.badge_rows(company.name)
    badges[16][0] = "VID:A0:14:31:0F:00:1G"  # row 17: not a MAC
    changes_before = AuthorizationChange.objects.count()
    response = preview(
        admin_client,
        BADGE_IMPORT,
        file_format,
        files.upload(file_format, files.BADGE_HEADERS, badges),
    )
    assert errors_of(response) == {
        17: {
            "rfid": [
                "The MAC address may only contain hexadecimal digits (0-9, A-F), "
                "got “A0:14:31:0F:00:1G”."
            ]
        }
    }
    assert Badge.objects.count() == 0
    assert AuthorizationChange.objects.count() == changes_before

    badges = files.badge_rows(company.name)
    response = preview(
        admin_client,
        BADGE_IMPORT,
        file_format,
        files.upload(file_format, files.BADGE_HEADERS, badges),
    )
    assert errors_of(response) == {}
    response = confirm(admin_client, BADGE_IMPORT, response)
    assert response.status_code == 302
    assert Badge.objects.filter(company=company).count() == 300
    badge = Badge.objects.get(rfid="VID:A014310F0005")
    assert badge.vehicle.license_plate == "GH-005-JK"
    assert badge.visual_number == "A014310F0005"
    assert badge.usage == BadgeUsage.PERSONAL  # "Personnel", French label
    assert badge.description == "Autocharge badge, vehicle GH-005-JK"
    assert badge.history.get().history_source == ChangeSource.IMPORT
    # Written through badge_save: the caches forget, the inbox entry is enrolled.
    assert AuthorizationChange.objects.filter(badge_id=badge.pk).exists()
    assert UnknownVehicle.objects.get(mac="A014310F0005").status == InboxStatus.ENROLLED


def test_a_second_import_updates_by_plate_and_lists_it(admin_client, company):
    rows = files.vehicle_rows(company.name, count=2)
    response = preview(
        admin_client, VEHICLE_IMPORT, "csv", files.csv_file(files.VEHICLE_HEADERS, rows)
    )
    confirm(admin_client, VEHICLE_IMPORT, response)
    rows[0][2] = "Peugeot"
    rows.append([company.name, "NEW-1", "Tesla", "Model 3", "", ""])
    response = preview(
        admin_client, VEHICLE_IMPORT, "csv", files.csv_file(files.VEHICLE_HEADERS, rows)
    )
    outcomes = [(row.row, row.outcome, row.key) for row in response.context["row_outcomes"]]
    assert outcomes == [
        (1, "updated", "GH-001-JK"),
        (2, "updated", "GH-002-JK"),
        (3, "created", "NEW-1"),
    ]
    confirm(admin_client, VEHICLE_IMPORT, response)
    assert Vehicle.objects.get(license_plate="GH-001-JK").make == "Peugeot"
    new = Vehicle.objects.get(license_plate="NEW-1")
    assert (new.charging_priority, new.active) == (1, True)  # empty cells: the defaults


def test_preview_in_french(admin_client, company):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    VehicleFactory(company=company, license_plate=files.plate(1))
    rows = files.badge_rows(company.name, count=2)
    rows[1][0] = "VID:A014"
    rows[1][3] = "ZZ-999-ZZ"
    response = preview(admin_client, BADGE_IMPORT, "csv", files.csv_file(files.BADGE_HEADERS, rows))
    page = response.content.decode()
    assert "Rien ne peut être importé" in page
    assert "Une adresse MAC compte 12 chiffres hexadécimaux, « A014 » en compte 4." in page
    assert "Aucun véhicule n’a la plaque « ZZ-999-ZZ »." in page
    outcomes = [str(row.outcome_label) for row in response.context["row_outcomes"]]
    assert outcomes == ["créé", "erreur"]
    assert "<td>créé</td>" in page and "Résultat" in page
    assert Badge.objects.count() == 0


def test_templates_have_the_seeds_columns(admin_client):
    response = admin_client.get(BADGE_IMPORT)
    assert b"template.csv" in response.content and b"template.xlsx" in response.content
    response = admin_client.get(BADGE_IMPORT + "template.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    assert headers == [
        "rfid", "visual_number", "type", "state", "provider", "description", "expires_at",
        "usage", "mode", "company", "vehicle_plate", "groups", "acknowledge_shared_mac",
    ]  # fmt: skip
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = admin_client.get(VEHICLE_IMPORT + "template.csv")
    assert response.content.decode("utf-8") == (
        "\ufeffcompany;license_plate;make;model;vin;description;charging_priority;active\r\n"
    )


def test_company_staff_import_into_their_company_only(client, company, django_user_model):
    from django.contrib.auth.models import Permission

    from fleet.models import StaffMembership

    other = CompanyFactory(name="Autre Flotte")
    user = django_user_model.objects.create_user("manager", password="pw", is_staff=True)
    StaffMembership.objects.create(user=user, company=company)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_vehicle", "change_vehicle", "view_vehicle"])
    )
    client.force_login(user)
    rows = [["", "AA-1", "", "", "", ""], [other.name, "AA-2", "", "", "", ""]]
    response = preview(client, VEHICLE_IMPORT, "csv", files.csv_file(files.VEHICLE_HEADERS, rows))
    assert errors_of(response) == {
        2: {"company": ["You import into your company, Transports Martin, not “Autre Flotte”."]}
    }
    assert Vehicle.objects.count() == 0


def test_a_confirmation_that_no_longer_passes_writes_nothing(admin_client, company):
    vehicle = VehicleFactory(company=company, license_plate=files.plate(1))
    rows = files.badge_rows(company.name, count=1)
    response = preview(admin_client, BADGE_IMPORT, "csv", files.csv_file(files.BADGE_HEADERS, rows))
    assert errors_of(response) == {}
    vehicle.delete()  # meanwhile, in another tab
    response = confirm(admin_client, BADGE_IMPORT, response)
    assert response.status_code == 302 and response["Location"] == BADGE_IMPORT
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Nothing was imported: rows no longer pass validation. Preview it again."]
    assert Badge.objects.count() == 0


def test_the_import_button_needs_add_and_change(client, company, django_user_model):
    from django.contrib.auth.models import Permission

    from fleet.models import StaffMembership

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    StaffMembership.objects.create(user=user, company=company)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_vehicle", "add_vehicle"])
    )
    client.force_login(user)
    assert VEHICLE_IMPORT.encode() not in client.get("/admin/fleet/vehicle/").content
    assert client.get(VEHICLE_IMPORT).status_code == 403
    assert client.get(VEHICLE_IMPORT + "template.csv").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_vehicle"))
    assert VEHICLE_IMPORT.encode() in client.get("/admin/fleet/vehicle/").content
    assert client.get(VEHICLE_IMPORT + "template.csv").status_code == 200

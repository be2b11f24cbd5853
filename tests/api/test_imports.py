"""``POST /api/v1/vehicles/import/`` and ``/api/v1/badges/import/``: a CSV or Excel file,
``dry_run``, every row's outcome; all or nothing; a company user imports into their company."""

import pytest

from badges.models import Badge
from fleet.models import Vehicle
from supervision.history import ChangeSource
from tests.factories import CompanyFactory, VehicleFactory
from tests.imports import files

VEHICLES = "/api/v1/vehicles/import/"
BADGES = "/api/v1/badges/import/"
VEHICLE_PERMS = ("fleet.add_vehicle", "fleet.change_vehicle")


@pytest.fixture
def company(db):
    return CompanyFactory(name="Transports Martin")


def post(client, url, upload, dry_run, **extra):
    return client.post(url, {"file": upload, "dry_run": dry_run}, format="multipart", **extra)


def errors_of(body) -> dict[int, dict]:
    return {row["row"]: row["errors"] for row in body["rows"] if row["errors"]}


def test_dry_run_then_real_import_of_300_vehicles_and_badges(api, company):
    vehicles = files.vehicle_rows(company.name)
    vehicles[41][1] = vehicles[2][1]
    response = post(api, VEHICLES, files.csv_file(files.VEHICLE_HEADERS, vehicles), "true")
    assert response.status_code == 400
    body = response.json()
    assert (body["dry_run"], body["written"]) == (True, False)
    assert body["totals"] == {"created": 299, "updated": 0, "error": 1}
    assert errors_of(body) == {
        42: {"license_plate": ["GH-003-JK is already on row 3 of this file."]}
    }
    # The same mistake without dry run: nothing either.
    vehicles_file = files.xlsx_file(files.VEHICLE_HEADERS, vehicles)
    assert post(api, VEHICLES, vehicles_file, "false").status_code == 400
    assert Vehicle.objects.count() == 0

    vehicles = files.vehicle_rows(company.name)
    response = post(api, VEHICLES, files.csv_file(files.VEHICLE_HEADERS, vehicles), "true")
    assert response.status_code == 200
    assert response.json()["totals"] == {"created": 300, "updated": 0, "error": 0}
    assert {row["id"] for row in response.json()["rows"]} == {None}
    assert Vehicle.objects.count() == 0

    response = post(api, VEHICLES, files.xlsx_file(files.VEHICLE_HEADERS, vehicles), "false")
    assert response.status_code == 200
    body = response.json()
    assert body["written"] is True
    assert Vehicle.objects.filter(company=company).count() == 300
    first = body["rows"][0]
    assert first == {
        "row": 1,
        "outcome": "created",
        "key": "GH-001-JK",
        "id": first["id"],
        "errors": {},
    }
    assert Vehicle.objects.get(pk=first["id"]).license_plate == "GH-001-JK"
    history = api.get(f"/api/v1/vehicles/{first['id']}/history/").json()["results"]
    assert [entry["source"] for entry in history] == [ChangeSource.IMPORT]

    badges = files.badge_rows(company.name)
    badges[16][0] = "VID:A0:14:31:0F:00:1G"
    response = post(api, BADGES, files.xlsx_file(files.BADGE_HEADERS, badges), "false")
    assert response.status_code == 400
    assert errors_of(response.json()) == {
        17: {
            "rfid": [
                "The MAC address may only contain hexadecimal digits (0-9, A-F), "
                "got “A0:14:31:0F:00:1G”."
            ]
        }
    }
    assert Badge.objects.count() == 0
    badges = files.badge_rows(company.name)
    response = post(api, BADGES, files.csv_file(files.BADGE_HEADERS, badges, french=True), "false")
    assert response.status_code == 200, response.json()["rows"][:2]
    assert Badge.objects.filter(company=company, vehicle__isnull=False).count() == 300

    # Again: every row matches the badge it made, whatever the MAC's spelling.
    response = post(api, BADGES, files.csv_file(files.BADGE_HEADERS, badges), "true")
    assert response.json()["totals"] == {"created": 0, "updated": 300, "error": 0}


def test_a_company_user_imports_into_their_company_only(staff_client, company):
    other = CompanyFactory(name="Autre Flotte")
    theirs = VehicleFactory(company=other, license_plate="OT-001-HR", make="Iveco")
    client = staff_client(*VEHICLE_PERMS, company=company)
    rows = [
        ["", "AA-001-AA", "Renault", "", "", ""],
        [other.name, "AA-002-AA", "Renault", "", "", ""],
        [company.name, "ot-001-hr", "Renault", "", "", ""],
    ]
    response = post(client, VEHICLES, files.csv_file(files.VEHICLE_HEADERS, rows), "false")
    assert response.status_code == 400
    assert errors_of(response.json()) == {
        2: {"company": ["You import into your company, Transports Martin, not “Autre Flotte”."]},
        3: {"license_plate": ["A vehicle with this license plate already exists."]},
    }
    assert Vehicle.objects.count() == 1
    theirs.refresh_from_db()
    assert (theirs.company, theirs.make) == (other, "Iveco")

    response = post(client, VEHICLES, files.csv_file(files.VEHICLE_HEADERS, rows[:1]), "false")
    assert response.status_code == 200
    assert Vehicle.objects.get(license_plate="AA-001-AA").company == company


def test_a_badge_row_names_only_the_users_vehicles_and_groups(staff_client, company):
    other = CompanyFactory(name="Autre Flotte")
    VehicleFactory(company=other, license_plate="OT-001-HR")
    VehicleFactory(company=company, license_plate="GH-001-JK")
    client = staff_client("badges.add_badge", "badges.change_badge", company=company)
    rows = [
        ["VID:A014310F0001", "", "", "OT-001-HR", "", ""],
        ["VID:A014310F0002", "", "", "GH-001-JK", "", "Dépôts partenaires"],
        ["VID:A014310F0003", "", "", "GH-001-JK", "perso", ""],
    ]
    response = post(client, BADGES, files.csv_file(files.BADGE_HEADERS, rows), "true")
    assert response.status_code == 400
    assert errors_of(response.json()) == {
        1: {"vehicle_plate": ["There is no vehicle with the plate “OT-001-HR”."]},
        2: {
            "groups": ["The badge's company has no authorization group named “Dépôts partenaires”."]
        },
        3: {"usage": ["“perso” is not one of: professional (Professional), personal (Personal)."]},
    }


def test_superusers_import_into_any_company(api, company):
    other = CompanyFactory(name="Autre Flotte")
    rows = [[other.name, "AA-001-AA", "", "", "", ""], ["Nobody", "AA-002-AA", "", "", "", ""]]
    response = post(api, VEHICLES, files.csv_file(files.VEHICLE_HEADERS, rows), "false")
    assert errors_of(response.json()) == {2: {"company": ["There is no company named “Nobody”."]}}
    response = post(api, VEHICLES, files.csv_file(files.VEHICLE_HEADERS, rows[:1]), "false")
    assert response.status_code == 200
    assert Vehicle.objects.get().company == other


def test_importing_needs_the_add_and_change_permissions(staff_client, company):
    client = staff_client("fleet.view_vehicle", "fleet.add_vehicle", company=company)
    rows = [["", "AA-001-AA", "", "", "", ""]]
    response = post(client, VEHICLES, files.csv_file(files.VEHICLE_HEADERS, rows), "false")
    assert response.status_code == 403
    assert Vehicle.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (files.SimpleUploadedFile("fleet.txt", b"plate\nAA-1"), "Send a .csv or .xlsx file."),
        (
            files.SimpleUploadedFile("fleet.xlsx", b"not a workbook"),
            "The file cannot be read as XLSX",
        ),
        (files.csv_file(["company", "license_plate"], []), "The file has no rows under its"),
        (files.csv_file(["company", "plate"], [["x", "AA-1"]]), "license_plate"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(api, company, upload, message):
    response = post(api, VEHICLES, upload, "false")
    assert response.status_code == 400
    body = response.json()
    assert body["rows"] == [] and body["written"] is False
    assert message in " ".join(body["errors"])


def test_messages_in_the_users_language(api, company):
    rows = [[company.name, "AA-001-AA", "", "", "deux", "peut-être"]]
    response = post(
        api,
        VEHICLES,
        files.csv_file(files.VEHICLE_HEADERS, rows),
        "true",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    errors = errors_of(response.json())[1]
    assert errors["active"] == ["Écrivez oui ou non, pas « peut-être »."]
    assert errors["charging_priority"] == ["La valeur «\xa0deux\xa0» doit être un nombre entier."]


def test_the_schema_documents_the_import_routes(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (VEHICLES, BADGES):
        operation = schema["paths"][path]["post"]
        content = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        assert content.endswith("/ImportRequest")
        assert set(operation["responses"]) == {"200", "400"}
    request = schema["components"]["schemas"]["ImportRequest"]
    assert set(request["properties"]) == {"file", "dry_run"}


def test_badge_cells_as_people_write_them(api, company):
    from zoneinfo import ZoneInfo

    from badges.models import BadgeMode, BadgeState, SharedMacModel
    from tests.factories import AuthorizationGroupFactory

    group = AuthorizationGroupFactory(company=company, name="Dépôts partenaires")
    AuthorizationGroupFactory(company=company, name="Nuit")
    VehicleFactory(company=company, license_plate="GH-001-JK", make="Renault", model="Zoe")
    SharedMacModel.objects.create(make="Renault", model="Zoe")
    headers = ["rfid", "mode", "state", "company", "vehicle_plate", "expires_at", "groups"]
    headers.append("acknowledge_shared_mac")
    card = ["card-7", "Entreprise – Badge partagé de l’entreprise", "Désactivé", company.name]
    card += ["", "31/01/2027 14:30", " Dépôts partenaires | Nuit ", ""]
    rows = [card, ["VID:A014310F0001", "", "", company.name, "GH-001-JK", "", "", ""]]
    response = post(api, BADGES, files.csv_file(headers, rows), "false")
    assert errors_of(response.json()) == {
        2: {
            "acknowledge_shared_mac": [
                "Renault Zoe vehicles are known to send a shared or changing MAC address: a badge "
                "for it could let every car of the model charge. Confirm to enrol anyway."
            ]
        }
    }
    rows[1][-1] = "oui"
    response = post(api, BADGES, files.xlsx_file(headers, rows), "false")
    assert response.status_code == 200, response.json()
    card = Badge.objects.get(rfid="CARD-7")
    assert (card.mode, card.state, card.vehicle) == (BadgeMode.COMPANY, BadgeState.DISABLED, None)
    assert card.expires_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M") == (
        "31/01/2027 14:30"
    )
    assert sorted(card.groups.values_list("name", flat=True)) == ["Dépôts partenaires", "Nuit"]
    assert group.badges.count() == 1
    assert Badge.objects.get(rfid="VID:A014310F0001").vehicle.license_plate == "GH-001-JK"

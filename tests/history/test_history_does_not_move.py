"""Editing or deleting a badge, vehicle or company changes no past session: the report page
(English and French), its CSV and Excel downloads, the API's sessions and the admin's list of
sessions are byte for byte what they were, as the owner of the station and a superuser read
them. Every change goes through the API, as staff make it."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stations.models import ChargingSession
from stations.services import PresentedToken, session_start, transaction_event_record
from tests.history.conftest import api, staff_of, web

pytestmark = pytest.mark.django_db

PERIOD = {
    "start": (timezone.localdate() - timedelta(days=7)).isoformat(),
    "end": timezone.localdate().isoformat(),
}
# Relations to what still exists: emptied when it is deleted (the recorded values stay).
LINKS = ("badge", "vehicle", "company")


def _without_csrf(content: bytes) -> bytes:
    # Django masks the CSRF token differently on every page it renders.
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def _result_list(changelist: bytes) -> bytes:
    # The sessions' table; the filters beside it list the companies as they are now.
    table = re.search(rb'<table id="result_list">.*?</table>', changelist, re.DOTALL)
    assert table is not None
    return table.group()


def _sheet(xlsx: bytes) -> bytes:
    # Every part of the workbook but its properties, which hold the time it was written.
    with zipfile.ZipFile(io.BytesIO(xlsx)) as workbook:
        names = sorted(name for name in workbook.namelist() if name != "docProps/core.xml")
        assert "xl/worksheets/sheet1.xml" in names
        return b"".join(workbook.read(name) for name in names)


def history(*users) -> dict[str, bytes]:
    """Everything that shows past sessions, as each of ``users`` reads it."""
    seen = {}
    for user in users:
        client = web(user)
        report = reverse("portal:report")
        download = "portal:report-download"
        seen[f"{user} report"] = _without_csrf(client.get(report, PERIOD).content)
        french = client.get(report, PERIOD, headers={"accept-language": "fr"})
        seen[f"{user} report fr"] = _without_csrf(french.content)
        csv = client.get(reverse(download, kwargs={"extension": "csv"}), PERIOD)
        seen[f"{user} csv"] = csv.content
        xlsx = client.get(reverse(download, kwargs={"extension": "xlsx"}), PERIOD)
        seen[f"{user} xlsx"] = _sheet(xlsx.content)
        admin = client.get(reverse("admin:stations_chargingsession_changelist"))
        seen[f"{user} admin"] = _result_list(admin.content)
        seen[f"{user} api"] = api(user).get("/api/v1/sessions/").content
    return seen


def _unlinked(api_body: bytes, deleted: dict[str, set[int]]) -> bytes:
    """The API's sessions as they must read once ``deleted`` (link → ids) is deleted."""
    body = json.loads(api_body)
    for row in body["results"]:
        for link in LINKS:
            if row[link] in deleted.get(link, ()):
                row[link] = None
    return json.dumps(body).encode()


def _as_json(api_body: bytes) -> bytes:
    return json.dumps(json.loads(api_body)).encode()


def test_the_history_shows_what_each_session_was_attributed_to(depot, superuser, alpha_staff):
    seen = history(superuser, alpha_staff)

    assert b"AA-001-AA,Professional,1,12.000" in seen["root csv"]
    assert b"Beta,BB-002-BB,Personal,1,9.000" in seen["root csv"]
    assert b"Personnel" in seen["root report fr"]
    # The station's owner sees its own session, never Beta's vehicle charging there.
    assert b"BB-002-BB" not in seen["alice csv"]
    assert b"BB-002-BB" not in seen["alice api"] + seen["alice admin"] + seen["alice report"]


def _badge_usage_changed(depot, superuser) -> dict:
    response = api(superuser).patch(
        f"/api/v1/badges/{depot.alpha_badge.pk}/", {"usage": "personal"}, format="json"
    )
    assert response.status_code == 200, response.json()
    return {}


def _badge_deleted(depot, superuser) -> dict:
    response = api(superuser).delete(f"/api/v1/badges/{depot.alpha_badge.pk}/")
    assert response.status_code == 204
    return {"badge": {depot.alpha_badge.pk}}


def _vehicle_plate_changed(depot, superuser) -> dict:
    response = api(superuser).patch(
        f"/api/v1/vehicles/{depot.alpha_badge.vehicle_id}/",
        {"license_plate": "AA-999-ZZ"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return {}


def _company_renamed(depot, superuser) -> dict:
    response = api(superuser).patch(
        f"/api/v1/companies/{depot.alpha.pk}/", {"name": "Alpha Renamed"}, format="json"
    )
    assert response.status_code == 200, response.json()
    return {}


def _company_deleted(depot, superuser) -> dict:
    client = api(superuser)
    vehicle = depot.beta_badge.vehicle_id
    for url in (
        f"/api/v1/badges/{depot.beta_badge.pk}/",
        f"/api/v1/vehicles/{vehicle}/",
        f"/api/v1/companies/{depot.beta.pk}/",
    ):
        response = client.delete(url)
        assert response.status_code == 204, (url, response.content)
    return {"badge": {depot.beta_badge.pk}, "vehicle": {vehicle}, "company": {depot.beta.pk}}


@pytest.mark.parametrize(
    "change",
    [
        _badge_usage_changed,
        _badge_deleted,
        _vehicle_plate_changed,
        _company_renamed,
        _company_deleted,
    ],
    ids=lambda change: change.__name__.strip("_").replace("_", " "),
)
def test_a_change_leaves_every_view_of_past_sessions_identical(
    depot, superuser, alpha_staff, change
):
    before = history(superuser, alpha_staff)

    deleted = change(depot, superuser)

    after = history(superuser, alpha_staff)
    for name in before:
        if name.endswith(" api"):
            # Byte for byte, but for the links to deleted records, now empty.
            assert _as_json(after[name]) == _unlinked(before[name], deleted), name
            if not deleted:
                assert after[name] == before[name], name
        else:
            assert after[name] == before[name], name


def test_a_deleted_companys_session_stays_hidden_from_the_station_owner(
    depot, superuser, alpha_staff
):
    _company_deleted(depot, superuser)

    session = ChargingSession.objects.get(pk=depot.beta_session.pk)
    assert session.company is None
    assert (session.company_name, session.vehicle_plate, session.usage) == (
        "Beta",
        "BB-002-BB",
        "personal",
    )
    ids = [
        row["transaction_id"] for row in api(alpha_staff).get("/api/v1/sessions/").json()["results"]
    ]
    assert ids == [depot.alpha_session.pk]
    assert api(alpha_staff).get(f"/api/v1/sessions/{session.pk}/").status_code == 404
    report = web(alpha_staff).get(reverse("portal:report"), PERIOD).context["report"]
    assert report.total == {"sessions": 1, "energy_wh": 12_000, "costs": []}
    assert (
        "No badge (open-charge)"
        not in web(alpha_staff).get(reverse("portal:report"), PERIOD).content.decode()
    )


def test_portal_pages_show_what_sessions_recorded_in_french(depot, superuser, alpha_staff):
    charging, _ = session_start(
        station=depot.station,
        connector_id=2,
        id_tag=depot.alpha_badge.rfid,
        meter_start=0,
        started_at=timezone.now(),
    )
    _badge_usage_changed(depot, superuser)
    _vehicle_plate_changed(depot, superuser)
    client, french = web(alpha_staff), {"accept-language": "fr"}

    vehicle = client.get(
        reverse("portal:vehicle-detail", args=[depot.alpha_badge.vehicle_id]), headers=french
    ).content.decode()
    dashboard = client.get(reverse("portal:dashboard"), headers=french).content.decode()
    station = client.get(
        reverse("portal:station-detail", args=[depot.station.pk]), headers=french
    ).content.decode()

    sessions = vehicle[vehicle.index('id="vsessions-title"') :]
    assert "Professionnel" in sessions and "Personnel" not in sessions
    assert "En charge" in dashboard
    assert charging.vehicle_plate == "AA-001-AA"
    for page in (dashboard, station):
        assert ">AA-001-AA</a>" in page and "AA-999-ZZ" not in page


def test_an_ocpp201_transaction_records_its_attribution_when_the_token_first_comes(depot):
    start = timezone.now() - timedelta(minutes=5)
    event = {"station": depot.station, "station_transaction_id": "tx-201", "evse_id": 1}

    before, _ = transaction_event_record(
        **event, event="Started", seq_no=0, timestamp=start, trigger_reason="CablePluggedIn"
    )
    after, decision = transaction_event_record(
        **event,
        event="Updated",
        seq_no=1,
        timestamp=start + timedelta(minutes=1),
        trigger_reason="Authorized",
        token=PresentedToken(id_tag=depot.beta_badge.rfid),
    )

    assert (before.company_name, before.station_company_id) == ("", depot.alpha.pk)
    assert decision.accepted
    after.refresh_from_db()
    assert (after.company_name, after.vehicle_plate, after.usage, after.badge_rfid) == (
        "Beta",
        "BB-002-BB",
        "personal",
        "VID:A014310E0002",
    )


def test_an_anonymous_session_stays_with_the_company_that_owned_the_station(
    depot, superuser, alpha_staff
):
    depot.station.auth_mode = "open"
    depot.station.save(update_fields=["auth_mode"])
    anonymous, decision = session_start(
        station=depot.station,
        connector_id=2,
        id_tag="NOT-A-BADGE",
        meter_start=0,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    beta_staff = staff_of(depot.beta, "bob")

    moved = api(superuser).patch(
        f"/api/v1/stations/{depot.station.pk}/", {"company": depot.beta.pk}, format="json"
    )

    assert decision.accepted and anonymous.company_name == ""
    assert moved.status_code == 200, moved.json()
    seen_by = {
        user.username: {
            row["transaction_id"] for row in api(user).get("/api/v1/sessions/").json()["results"]
        }
        for user in (alpha_staff, beta_staff)
    }
    assert anonymous.pk in seen_by["alice"]
    assert anonymous.pk not in seen_by["bob"]

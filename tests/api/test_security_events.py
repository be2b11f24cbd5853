"""Security events: read-only, filtered by kind, severity, station and id tag."""

import pytest

from stations.enrolment import authorization_request
from stations.models import SecurityEvent
from stations.security import security_event_record
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/security-events/"
EVENT_FIELDS = {
    "id",
    "kind",
    "severity",
    "station",
    "id_tag",
    "details",
    "created_at",
    "notified",
}
VID = "VID:A014310E004E"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_mac_probing_stations_of_several_companies_is_listed_with_every_field(api, settings):
    settings.AUTOCHARGE_PROBING_COMPANIES = 2
    first = StationFactory(
        company=CompanyFactory(contact_email="ops@example.com"), charge_point_id="CP-FIRST"
    )
    second = StationFactory(charge_point_id="CP-SECOND")

    authorization_request(id_tag=VID, station=first)
    authorization_request(id_tag="vid:a0:14:31:0e:00:4e", station=second)

    response = api.get(URL)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert set(row) == EVENT_FIELDS | {"other_companies_details"}  # a superuser's view
    event = SecurityEvent.objects.get()
    assert row["id"] == event.pk
    # Several companies' business: no station, superusers' only.
    assert (row["kind"], row["severity"], row["station"], row["id_tag"]) == (
        "mac_probing",
        "warning",
        None,
        VID,
    )
    assert row["details"] == {
        "companies": 2,
        "stations": ["CP-FIRST", "CP-SECOND"],
        "latest_station": "CP-SECOND",
        "window_minutes": settings.AUTOCHARGE_PROBING_WINDOW_MINUTES,
    }
    assert row["notified"] is event.notified is False  # no company's contact is mailed
    assert row["created_at"]


def test_events_are_listed_newest_first(api):
    older = security_event_record(kind="mac_changed", severity="info", station=None)
    newer = security_event_record(kind="mac_probing", severity="warning", station=None)

    assert ids(api.get(URL)) == [newer.pk, older.pk]


def test_an_event_without_station_lists_null(api):
    event = security_event_record(kind="mac_changed", severity="info", station=None, id_tag=VID)

    body = api.get(f"{URL}{event.pk}/").json()

    assert (body["station"], body["id_tag"], body["notified"]) == (None, VID, False)


class TestFilters:
    @pytest.fixture
    def events(self):
        depot, other = StationFactory(), StationFactory()
        return {
            "concurrent": security_event_record(
                kind="concurrent_vid", severity="critical", station=depot, id_tag=VID
            ),
            "probing": security_event_record(
                kind="mac_probing", severity="warning", station=other, id_tag="VID:A0143100AAAA"
            ),
            "changed": security_event_record(
                kind="mac_changed", severity="info", station=depot, id_tag="VID:A0143100AAAA"
            ),
        }

    def test_filtering_by_kind(self, api, events):
        assert ids(api.get(URL, {"kind": "mac_probing"})) == [events["probing"].pk]

    def test_filtering_by_severity(self, api, events):
        assert ids(api.get(URL, {"severity": "critical"})) == [events["concurrent"].pk]

    def test_filtering_by_station(self, api, events):
        depot = events["concurrent"].station_id

        assert ids(api.get(URL, {"station": depot})) == [
            events["changed"].pk,
            events["concurrent"].pk,
        ]

    def test_filtering_by_id_tag_normalises_it(self, api, events):
        assert ids(api.get(URL, {"id_tag": "vid:a0:14:31:0e:00:4e"})) == [events["concurrent"].pk]

    def test_filters_combine(self, api, events):
        response = api.get(URL, {"id_tag": "VID:A0143100AAAA", "kind": "mac_changed"})

        assert ids(response) == [events["changed"].pk]

    @pytest.mark.parametrize(("name", "value"), [("kind", "fire"), ("severity", "high")])
    def test_an_unknown_choice_is_a_400(self, api, events, name, value):
        response = api.get(URL, {name: value})

        assert response.status_code == 400
        assert name in response.json()


def test_events_are_read_only(api):
    event = security_event_record(kind="mac_changed", severity="info", station=None)

    assert api.post(URL, {"kind": "mac_changed", "severity": "info"}).status_code == 405
    assert api.patch(f"{URL}{event.pk}/", {"notified": True}).status_code == 405
    assert api.delete(f"{URL}{event.pk}/").status_code == 405
    assert SecurityEvent.objects.get().notified is False


def test_reading_needs_the_view_permission(staff_client):
    station = StationFactory()
    security_event_record(kind="mac_changed", severity="info", station=station)

    assert staff_client(username="nobody").get(URL).status_code == 403
    viewer = staff_client("stations.view_securityevent", username="viewer", company=station.company)
    assert len(ids(viewer.get(URL))) == 1


def test_anonymous_requests_get_401(anonymous_client):
    assert anonymous_client.get(URL).status_code == 401

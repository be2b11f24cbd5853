"""The OCPP message log: read-only, filtered like the admin."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from ocpp_gateway.models import OcppMessage
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/ocpp-messages/"
MESSAGE_FIELDS = {
    "id",
    "station",
    "charge_point_id",
    "direction",
    "message_type",
    "unique_id",
    "action",
    "status",
    "ocpp_status",
    "reason",
    "id_tag",
    "payload",
    "created_at",
}
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
_counter = iter(range(1, 10_000))


def make_message(station=None, **fields) -> OcppMessage:
    n = next(_counter)
    values = {
        "station": station,
        "charge_point_id": station.charge_point_id if station else "CP-UNKNOWN",
        "direction": "in",
        "message_type": 2,
        "unique_id": f"uid-{n}",
        "action": "Heartbeat",
        "payload": {},
        "created_at": T0 + timedelta(seconds=n),
        **fields,
    }
    return OcppMessage.objects.create(**values)


def ids(response) -> list[UUID]:
    """Log rows are identified by time-ordered UUIDs."""
    assert response.status_code == 200, response.content
    return [UUID(row["id"]) for row in response.json()["results"]]


def test_listing_messages_newest_first_with_every_field(api):
    station = StationFactory()
    older = make_message(station)
    newer = make_message(
        station,
        action="Authorize",
        status="Rejected",
        ocpp_status="Invalid",
        reason="unknown_badge",
        id_tag="VID:A014310E004E",
        payload={"idTag": "VID:A014310E004E"},
    )

    response = api.get(URL)

    assert ids(response) == [newer.pk, older.pk]
    row = response.json()["results"][0]
    assert set(row) == MESSAGE_FIELDS
    assert row["station"] == station.pk
    assert (row["action"], row["status"], row["ocpp_status"], row["reason"]) == (
        "Authorize",
        "Rejected",
        "Invalid",
        "unknown_badge",
    )
    assert row["payload"] == {"idTag": "VID:A014310E004E"}
    assert row["message_type"] == 2


def test_retrieving_a_message(api):
    message = make_message(charge_point_id="CP-X")

    response = api.get(f"{URL}{message.pk}/")

    assert response.status_code == 200
    assert response.json()["charge_point_id"] == "CP-X"
    assert response.json()["station"] is None


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_messages_are_read_only(api, method):
    message = make_message()
    url = URL if method == "post" else f"{URL}{message.pk}/"

    response = getattr(api, method)(url, {"action": "Forged"}, format="json")

    assert response.status_code == 405
    message.refresh_from_db()
    assert message.action == "Heartbeat"
    assert OcppMessage.objects.count() == 1


def test_filtering_by_station(api):
    station = StationFactory()
    wanted = make_message(station)
    make_message(StationFactory())

    assert ids(api.get(URL, {"station": station.pk})) == [wanted.pk]


def test_filtering_by_charge_point_id(api):
    wanted = make_message(charge_point_id="CP-A")
    make_message(charge_point_id="CP-B")

    assert ids(api.get(URL, {"charge_point_id": "CP-A"})) == [wanted.pk]


def test_filtering_by_action(api):
    wanted = make_message(action="Authorize")
    make_message(action="Heartbeat")

    assert ids(api.get(URL, {"action": "Authorize"})) == [wanted.pk]


def test_filtering_by_status(api):
    wanted = make_message(action="Authorize", status="Rejected")
    make_message(action="Authorize", status="Accepted")
    make_message()

    assert ids(api.get(URL, {"status": "Rejected"})) == [wanted.pk]


def test_filtering_by_direction(api):
    wanted = make_message(direction="out")
    make_message(direction="in")

    assert ids(api.get(URL, {"direction": "out"})) == [wanted.pk]


@pytest.mark.parametrize(
    "query",
    ["vid:a0:14:31:0e:00:4e", "VID:A014310E004E", "VID:a0-14-31-0e-00-4e", "VID:0000A014310E004E"],
)
def test_filtering_by_id_tag_normalises_like_stations(api, query):
    wanted = make_message(action="Authorize", id_tag="VID:A014310E004E")
    make_message(action="Authorize", id_tag="VID:A014310E0050")

    assert ids(api.get(URL, {"id_tag": query})) == [wanted.pk]


def test_filtering_by_an_rfid_card_id_tag_ignores_case(api):
    wanted = make_message(action="Authorize", id_tag="04A1B2C3D4")
    make_message(action="Authorize", id_tag="04A1B2C3D5")

    assert ids(api.get(URL, {"id_tag": "04a1b2c3d4"})) == [wanted.pk]


def test_filters_combine(api):
    station = StationFactory()
    wanted = make_message(station, action="Authorize", status="Rejected")
    make_message(station, action="Authorize", status="Accepted")
    make_message(action="Authorize", status="Rejected")

    assert ids(api.get(URL, {"station": station.pk, "status": "Rejected"})) == [wanted.pk]

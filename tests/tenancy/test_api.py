"""Company isolation in the REST API: a staff user who is not a superuser lists, reads, filters,
writes and acts on only their company's records; another company's are 404 by id and refused
as references."""

import pytest

from badges.models import Badge, InboxStatus, PairingWindow, SharedMacModel, UnknownVehicle
from fleet.models import AuthorizationGroup, Company, Vehicle
from stations.enrolment import authorization_request
from stations.models import AuthMethod, ChargingSession, Station
from tests.tenancy.conftest import api_client

pytestmark = pytest.mark.django_db

# endpoint, the record of a tenant it lists
RESOURCES = [
    ("companies", "company"),
    ("vehicles", "vehicle"),
    ("groups", "group"),
    ("badges", "badge"),
    ("stations", "station"),
    ("sessions", "session"),
    ("ocpp-messages", "message"),
    ("unknown-vehicles", "unknown_vehicle"),
    ("pairings", "pairing"),
    ("security-events", "security_event"),
]
WRITABLE = ["companies", "vehicles", "groups", "badges", "stations"]
RESOURCE_KIND = dict(RESOURCES)


def url(endpoint: str, pk=None) -> str:
    return f"/api/v1/{endpoint}/" if pk is None else f"/api/v1/{endpoint}/{pk}/"


def listed(response) -> set:
    assert response.status_code == 200, response.content
    return {item.get("id", item.get("transaction_id")) for item in response.json()["results"]}


def pk_of(record):
    return str(record.pk) if not isinstance(record.pk, int) else record.pk


# One test per behaviour, one subtest per endpoint: the two companies are built once per test.


def test_a_staff_user_lists_only_their_company_records(tenants, alpha_api, subtests):
    alpha, _beta = tenants
    for endpoint, kind in RESOURCES:
        with subtests.test(endpoint=endpoint):
            assert listed(alpha_api.get(url(endpoint))) == {pk_of(alpha.record(kind))}


def test_another_company_record_by_id_is_not_found(tenants, alpha_api, subtests):
    alpha, beta = tenants
    for endpoint, kind in RESOURCES:
        with subtests.test(endpoint=endpoint):
            assert alpha_api.get(url(endpoint, alpha.record(kind).pk)).status_code == 200
            assert alpha_api.get(url(endpoint, beta.record(kind).pk)).status_code == 404


def test_another_company_record_cannot_be_changed_or_deleted(tenants, alpha_api, subtests):
    _alpha, beta = tenants
    for endpoint, kind in [r for r in RESOURCES if r[0] in WRITABLE]:
        with subtests.test(endpoint=endpoint):
            record = beta.record(kind)
            before = type(record).objects.filter(pk=record.pk).values().get()

            patched = alpha_api.patch(url(endpoint, record.pk), {"name": "x"}, format="json")
            put = alpha_api.put(url(endpoint, record.pk), {"name": "x"}, format="json")
            deleted = alpha_api.delete(url(endpoint, record.pk))

            assert (patched.status_code, put.status_code, deleted.status_code) == (404, 404, 404)
            assert type(record).objects.filter(pk=record.pk).values().get() == before


def test_a_superuser_sees_every_company(tenants, admin_user, subtests):
    alpha, beta = tenants
    client = api_client(admin_user)
    for endpoint, kind in RESOURCES:
        with subtests.test(endpoint=endpoint):
            expected = {pk_of(alpha.record(kind)), pk_of(beta.record(kind))}
            assert listed(client.get(url(endpoint))) == expected


def test_a_staff_user_without_a_company_sees_nothing(tenants, homeless_staff, subtests):
    client = api_client(homeless_staff)
    for endpoint, kind in RESOURCES:
        with subtests.test(endpoint=endpoint):
            assert listed(client.get(url(endpoint))) == set()
            assert client.get(url(endpoint, tenants[0].record(kind).pk)).status_code == 404


# --- Filters -------------------------------------------------------------------------------

# endpoint, filter, the record of the other company it names
RELATION_FILTERS = [
    ("vehicles", "company", "company"),
    ("groups", "company", "company"),
    ("groups", "stations", "station"),
    ("badges", "company", "company"),
    ("badges", "vehicle", "vehicle"),
    ("stations", "company", "company"),
    ("sessions", "station", "station"),
    ("sessions", "vehicle", "vehicle"),
    ("sessions", "company", "company"),
    ("sessions", "badge", "badge"),
    ("ocpp-messages", "station", "station"),
    ("unknown-vehicles", "station", "station"),
    ("pairings", "station", "station"),
    ("pairings", "vehicle", "vehicle"),
    ("security-events", "station", "station"),
]


def test_filtering_on_another_company_record_is_refused_like_an_unknown_id(
    tenants, alpha_api, subtests
):
    alpha, beta = tenants
    for endpoint, name, kind in RELATION_FILTERS:
        with subtests.test(endpoint=endpoint, filter=name):
            other_pk = beta.record(kind).pk

            own = alpha_api.get(url(endpoint), {name: alpha.record(kind).pk})
            other = alpha_api.get(url(endpoint), {name: other_pk})
            unknown = alpha_api.get(url(endpoint), {name: 999999})

            assert listed(own) == {pk_of(alpha.record(RESOURCE_KIND[endpoint]))}
            assert (other.status_code, unknown.status_code) == (400, 400)
            # The same answer as for an id that does not exist (a list filter quotes the id).
            message = other.json()[name][0].replace(str(other_pk), "N")
            assert message == unknown.json()[name][0].replace("999999", "N")
            assert "valid choice" in message


def test_filtering_on_another_company_values_finds_nothing(tenants, alpha_api, subtests):
    _alpha, beta = tenants
    for endpoint, name, value in [
        ("badges", "rfid", beta.badge.rfid),
        ("stations", "charge_point_id", beta.station.charge_point_id),
        ("ocpp-messages", "charge_point_id", beta.station.charge_point_id),
        ("ocpp-messages", "id_tag", beta.message.id_tag),
        ("vehicles", "license_plate", beta.vehicle.license_plate),
    ]:
        with subtests.test(endpoint=endpoint, filter=name):
            assert listed(alpha_api.get(url(endpoint), {name: value})) == set()


# --- Writes naming other companies' records --------------------------------------------------


def test_a_vehicle_cannot_be_created_for_another_company(tenants, alpha_api):
    _alpha, beta = tenants

    response = alpha_api.post(
        url("vehicles"), {"company": beta.company.pk, "license_plate": "NEW-1"}, format="json"
    )

    assert response.status_code == 400
    assert "Invalid pk" in response.json()["company"][0]
    assert not Vehicle.objects.filter(license_plate="NEW-1").exists()


def test_a_vehicle_cannot_be_moved_to_another_company(tenants, alpha_api):
    alpha, beta = tenants

    response = alpha_api.patch(
        url("vehicles", alpha.vehicle.pk), {"company": beta.company.pk}, format="json"
    )

    assert response.status_code == 400
    alpha.vehicle.refresh_from_db()
    assert alpha.vehicle.company == alpha.company


def test_a_station_cannot_be_created_for_another_company(tenants, alpha_api):
    response = alpha_api.post(
        url("stations"),
        {"company": tenants[1].company.pk, "charge_point_id": "CP-NEW"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"company"}
    assert not Station.objects.filter(charge_point_id="CP-NEW").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vehicle", lambda beta: beta.vehicle.pk),
        ("provider", lambda beta: beta.company.pk),
        ("groups", lambda beta: [beta.group.pk]),
    ],
)
def test_a_badge_cannot_name_another_company_record(tenants, alpha_api, field, value):
    alpha, beta = tenants
    data = {
        "rfid": "VID:A014310E0777",
        "company": alpha.company.pk,
        "vehicle": alpha.vehicle.pk,
        field: value(beta),
    }

    response = alpha_api.post(url("badges"), data, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Badge.objects.filter(rfid="VID:A014310E0777").exists()


def test_a_staff_user_creates_a_badge_for_their_own_vehicle(tenants, alpha_api):
    alpha, _beta = tenants
    data = {
        "rfid": "VID:A014310E0777",
        "company": alpha.company.pk,
        "vehicle": alpha.vehicle.pk,
        "groups": [alpha.group.pk],
    }

    response = alpha_api.post(url("badges"), data, format="json")

    assert response.status_code == 201, response.content
    assert Badge.objects.get(rfid="VID:A014310E0777").vehicle == alpha.vehicle


def test_a_group_cannot_take_in_another_company_station(tenants, alpha_api):
    alpha, beta = tenants

    response = alpha_api.patch(
        url("groups", alpha.group.pk),
        {"stations": [alpha.station.pk, beta.station.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert list(alpha.group.stations.all()) == [alpha.station]


def test_a_partner_station_a_superuser_linked_stays_editable_by_the_group_company(
    tenants, alpha_api
):
    alpha, beta = tenants
    alpha.group.stations.add(beta.station)  # a superuser shares Beta's station with Alpha

    kept = alpha_api.put(
        url("groups", alpha.group.pk),
        {
            "name": "Renamed",
            "company": alpha.company.pk,
            "stations": [alpha.station.pk, beta.station.pk],
        },
        format="json",
    )
    removed = alpha_api.patch(
        url("groups", alpha.group.pk), {"stations": [alpha.station.pk]}, format="json"
    )

    assert kept.status_code == 200, kept.content
    assert removed.status_code == 200
    assert list(alpha.group.stations.all()) == [alpha.station]
    assert AuthorizationGroup.objects.get(pk=alpha.group.pk).name == "Renamed"


def test_only_a_superuser_creates_a_company(tenants, alpha_api, admin_user):
    refused = alpha_api.post(url("companies"), {"name": "Gamma"}, format="json")
    created = api_client(admin_user).post(url("companies"), {"name": "Gamma"}, format="json")

    assert (refused.status_code, created.status_code) == (403, 201)
    assert Company.objects.filter(name="Gamma").count() == 1


def test_every_staff_user_reads_the_shared_mac_models_and_only_superusers_change_them(
    tenants, alpha_api, admin_user
):
    model = SharedMacModel.objects.first()
    seeded = SharedMacModel.objects.count()

    listed_count = alpha_api.get(url("shared-mac-models")).json()["count"]
    created = alpha_api.post(url("shared-mac-models"), {"make": "Acme"}, format="json")
    changed = alpha_api.patch(url("shared-mac-models", model.pk), {"note": "x"}, format="json")
    deleted = alpha_api.delete(url("shared-mac-models", model.pk))
    by_superuser = api_client(admin_user).post(
        url("shared-mac-models"), {"make": "Acme"}, format="json"
    )

    assert listed_count == seeded > 0
    assert (created.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert by_superuser.status_code == 201
    assert SharedMacModel.objects.count() == seeded + 1


# --- Actions -------------------------------------------------------------------------------


def test_another_company_inbox_entry_cannot_be_enrolled_nor_dismissed(tenants, alpha_api):
    alpha, beta = tenants
    entry = beta.unknown_vehicle

    enrolled = alpha_api.post(
        url("unknown-vehicles", entry.pk) + "enrol/", {"vehicle": alpha.vehicle.pk}, format="json"
    )
    dismissed = alpha_api.post(
        url("unknown-vehicles", entry.pk) + "dismiss/", {"reason": "visitor"}, format="json"
    )

    assert (enrolled.status_code, dismissed.status_code) == (404, 404)
    entry.refresh_from_db()
    assert entry.status == InboxStatus.OPEN


def test_an_inbox_entry_cannot_be_enrolled_into_another_company_vehicle(tenants, alpha_api):
    alpha, beta = tenants
    entry = alpha.unknown_vehicle

    response = alpha_api.post(
        url("unknown-vehicles", entry.pk) + "enrol/", {"vehicle": beta.vehicle.pk}, format="json"
    )

    assert response.status_code == 400
    assert "Invalid pk" in response.json()["vehicle"][0]
    assert not Badge.objects.filter(rfid=entry.id_tag).exists()


def test_another_company_station_cannot_be_armed_nor_disarmed(tenants, alpha_api):
    alpha, beta = tenants
    beta.pairing.delete()

    armed = alpha_api.post(
        url("stations", beta.station.pk) + "pairing/", {"vehicle": alpha.vehicle.pk}, format="json"
    )
    disarmed = alpha_api.delete(url("stations", beta.station.pk) + "pairing/")

    assert (armed.status_code, disarmed.status_code) == (404, 404)
    assert not PairingWindow.objects.filter(station=beta.station).exists()


def test_a_station_cannot_be_armed_for_another_company_vehicle(tenants, alpha_api):
    alpha, beta = tenants
    alpha.pairing.delete()

    response = alpha_api.post(
        url("stations", alpha.station.pk) + "pairing/", {"vehicle": beta.vehicle.pk}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"vehicle"}
    assert not PairingWindow.objects.filter(station=alpha.station).exists()


# --- What a company sees of the others at its stations ---------------------------------------


def test_a_station_owner_does_not_see_another_company_session_at_its_station(tenants, alpha_api):
    alpha, beta = tenants
    visiting = ChargingSession.objects.create(
        station=alpha.station,
        connector_id=1,
        id_tag=beta.badge.rfid,
        badge=beta.badge,
        vehicle=beta.vehicle,
        company=beta.company,
        auth_method=AuthMethod.AUTOCHARGE,
        authorization_status="Accepted",
        authorization_reason="accepted",
        meter_start=0,
        started_at=alpha.session.started_at,
    )
    anonymous = ChargingSession.objects.create(
        station=alpha.station,
        connector_id=1,
        id_tag="",
        auth_method=AuthMethod.OPEN,
        authorization_status="Accepted",
        authorization_reason="open_charge",
        meter_start=0,
        started_at=alpha.session.started_at,
    )
    beta_api = api_client(beta.staff)

    assert listed(alpha_api.get(url("sessions"))) == {alpha.session.pk, anonymous.pk}
    assert listed(beta_api.get(url("sessions"))) == {beta.session.pk, visiting.pk}
    assert beta_api.get(url("sessions", visiting.pk)).json()["station"] == alpha.station.pk


def test_a_mac_seen_by_two_companies_is_one_inbox_entry_each(tenants, alpha_api):
    alpha, beta = tenants
    entry = alpha.unknown_vehicle
    beta.pairing.delete()  # an armed station would pair the MAC instead
    authorization_request(id_tag=entry.id_tag, station=beta.station, connector_id=1)
    beta_entry = UnknownVehicle.objects.get(company=beta.company, mac=entry.mac)

    seen_by_alpha = alpha_api.get(url("unknown-vehicles", entry.pk)).json()
    seen_by_beta = api_client(beta.staff).get(url("unknown-vehicles", beta_entry.pk)).json()

    assert (seen_by_alpha["stations"], seen_by_alpha["attempts"]) == (
        [alpha.station.charge_point_id],
        1,
    )
    assert (seen_by_beta["stations"], seen_by_beta["attempts"]) == (
        [beta.station.charge_point_id],
        1,
    )
    assert alpha_api.get(url("unknown-vehicles", beta_entry.pk)).status_code == 404

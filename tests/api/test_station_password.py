"""A station's password over REST: write-only ``basic_auth_password`` (set, rotate, remove with
null), a read-only ``has_password``, company scoping, and ``push_authorization_key``, which sends
it to a connected station as AuthorizationKey, or changes nothing (409) when it is offline."""

import pytest
from django.core.cache import cache

from ocpp_gateway.models import Command
from stations.models import ConnectionState, Station
from stations.services import station_set_password
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Password-16+"
PUSHABLE = "Pushable-Pass-2024"  # 18 characters: within AuthorizationKey's 20 bytes


def url(station) -> str:
    return f"/api/v1/stations/{station.pk}/"


def stored_hash(station) -> str:
    return Station.objects.values_list("basic_auth_password_hash", flat=True).get(pk=station.pk)


@pytest.fixture
def station():
    return StationFactory(charge_point_id="CP-PWD")


@pytest.fixture
def connected():
    return StationFactory(charge_point_id="CP-ONLINE", connection_state=ConnectionState.CONNECTED)


class TestWriteOnly:
    def test_a_password_set_by_patch_is_never_in_the_answer_and_has_password_says_so(
        self, api, station
    ):
        response = api.patch(url(station), {"basic_auth_password": PASSWORD}, format="json")

        assert response.status_code == 200, response.json()
        assert "basic_auth_password" not in response.json()
        assert PASSWORD not in response.content.decode()
        assert response.json()["has_password"] is True
        assert stored_hash(station) != PASSWORD
        assert Station.objects.get(pk=station.pk).check_password(PASSWORD)

    def test_reading_a_station_shows_whether_it_has_a_password_never_the_password(
        self, api, station
    ):
        station_set_password(station=station, password=PASSWORD)

        detail = api.get(url(station))
        listing = api.get("/api/v1/stations/")

        assert detail.json()["has_password"] is True
        assert "basic_auth_password" not in detail.json()
        assert "basic_auth_password_hash" not in detail.json()
        for response in (detail, listing):
            assert PASSWORD not in response.content.decode()
            assert stored_hash(station) not in response.content.decode()

    def test_a_station_created_with_a_password_has_it(self, api):
        company = CompanyFactory()

        response = api.post(
            "/api/v1/stations/",
            {"charge_point_id": "CP-NEW", "company": company.pk, "basic_auth_password": PASSWORD},
            format="json",
        )

        assert response.status_code == 201, response.json()
        assert response.json()["has_password"] is True
        assert "basic_auth_password" not in response.json()
        assert Station.objects.get(charge_point_id="CP-NEW").check_password(PASSWORD)

    def test_a_station_without_password_says_so(self, api, station):
        assert api.get(url(station)).json()["has_password"] is False


class TestRotateAndRemove:
    def test_patching_a_new_password_rotates_it(self, api, station):
        station_set_password(station=station, password=PASSWORD)

        response = api.patch(
            url(station), {"basic_auth_password": "the-next-password-1"}, format="json"
        )

        assert response.status_code == 200
        station = Station.objects.get(pk=station.pk)
        assert station.check_password("the-next-password-1")
        assert not station.check_password(PASSWORD)

    def test_a_patch_without_the_field_keeps_the_password(self, api, station):
        station_set_password(station=station, password=PASSWORD)
        before = stored_hash(station)

        response = api.patch(url(station), {"name": "Renamed"}, format="json")

        assert response.status_code == 200
        assert response.json()["has_password"] is True
        assert stored_hash(station) == before

    def test_null_removes_the_password(self, api, station):
        station_set_password(station=station, password=PASSWORD)

        response = api.patch(url(station), {"basic_auth_password": None}, format="json")

        assert response.status_code == 200
        assert response.json()["has_password"] is False
        assert stored_hash(station) == ""

    def test_an_empty_string_does_not_remove_it_null_does(self, api, station):
        station_set_password(station=station, password=PASSWORD)
        before = stored_hash(station)

        response = api.patch(url(station), {"basic_auth_password": ""}, format="json")

        assert response.status_code == 400
        assert response.json() == {"basic_auth_password": ["Send null to remove the password."]}
        assert stored_hash(station) == before

    @pytest.mark.parametrize("length", [15, 41])
    def test_15_or_41_characters_are_a_400_with_the_bounds(self, api, station, length):
        response = api.patch(url(station), {"basic_auth_password": "x" * length}, format="json")

        assert response.status_code == 400
        assert response.json() == {
            "basic_auth_password": [f"The password must be 16 to 40 characters long, not {length}."]
        }
        assert stored_hash(station) == ""

    def test_an_accented_password_is_a_400(self, api, station):
        response = api.patch(
            url(station), {"basic_auth_password": "mot-de-passe-très-long"}, format="json"
        )

        assert response.status_code == 400
        assert "printable ASCII" in response.json()["basic_auth_password"][0]
        assert stored_hash(station) == ""

    def test_the_error_is_in_french_for_a_french_client(self, api, station):
        response = api.patch(
            url(station),
            {"basic_auth_password": "x" * 15},
            format="json",
            HTTP_ACCEPT_LANGUAGE="fr",
        )

        assert response.json() == {
            "basic_auth_password": [
                "Le mot de passe doit compter de 16 à 40 caractères, et non 15."
            ]
        }


class TestCompanies:
    def test_another_company_s_station_is_a_404_and_keeps_its_password(self, staff_client, station):
        station_set_password(station=station, password=PASSWORD)
        before = stored_hash(station)
        client = staff_client("stations.change_station", company=CompanyFactory())

        response = client.patch(url(station), {"basic_auth_password": None}, format="json")

        assert response.status_code == 404
        assert stored_hash(station) == before

    def test_staff_of_the_company_rotate_their_own_station_s_password(self, staff_client, station):
        client = staff_client("stations.change_station", company=station.company)

        response = client.patch(url(station), {"basic_auth_password": PASSWORD}, format="json")

        assert response.status_code == 200
        assert Station.objects.get(pk=station.pk).check_password(PASSWORD)


class TestPush:
    def test_pushing_records_a_change_configuration_without_the_password(
        self, api, superuser, connected, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = api.patch(
                url(connected),
                {"basic_auth_password": PUSHABLE, "push_authorization_key": True},
                format="json",
            )

        assert response.status_code == 200, response.json()
        assert "push_authorization_key" not in response.json()
        assert Station.objects.get(pk=connected.pk).check_password(PUSHABLE)
        command = Command.objects.get()
        assert (command.station, command.action, command.state, command.requested_by) == (
            connected,
            "ChangeConfiguration",
            "pending",
            superuser,
        )
        assert command.payload == {"key": "AuthorizationKey", "value": "***"}
        # The value waits for the station's connection outside the database, hex-encoded.
        assert cache.get(f"ocpp_gateway:command-secret:{command.pk}") == PUSHABLE.encode().hex()
        # The secret is kept, then the connection told (a password is not something the
        # authorization caches look at).
        assert len(callbacks) == 2
        shown = api.get(f"/api/v1/commands/{command.pk}/").content.decode()
        assert PUSHABLE not in shown and PUSHABLE.encode().hex() not in shown

    def test_pushing_to_an_offline_station_is_a_409_and_changes_nothing(self, api, station):
        station_set_password(station=station, password=PASSWORD)
        before = stored_hash(station)

        response = api.patch(
            url(station),
            {"basic_auth_password": PUSHABLE, "push_authorization_key": True},
            format="json",
        )

        assert response.status_code == 409
        assert response.json() == {
            "detail": "CP-PWD is not connected: the password cannot be sent to it. "
            "Nothing was changed."
        }
        assert stored_hash(station) == before
        assert not Command.objects.exists()

    def test_a_new_station_cannot_be_pushed_its_password(self, api):
        company = CompanyFactory()

        response = api.post(
            "/api/v1/stations/",
            {
                "charge_point_id": "CP-NEW",
                "company": company.pk,
                "basic_auth_password": PUSHABLE,
                "push_authorization_key": True,
            },
            format="json",
        )

        assert response.status_code == 409
        assert not Station.objects.filter(charge_point_id="CP-NEW").exists()

    def test_pushing_needs_the_new_password_in_the_same_request(self, api, connected):
        station_set_password(station=connected, password=PASSWORD)

        response = api.patch(url(connected), {"push_authorization_key": True}, format="json")

        assert response.status_code == 400
        assert response.json() == {
            "push_authorization_key": [
                "Send the new password in basic_auth_password with it: the stored one is only "
                "a hash and cannot be sent."
            ]
        }
        assert not Command.objects.exists()

    def test_a_password_longer_than_authorization_key_allows_is_not_pushed(self, api, connected):
        response = api.patch(
            url(connected),
            {"basic_auth_password": "p" * 21, "push_authorization_key": True},
            format="json",
        )

        assert response.status_code == 400
        assert response.json() == {
            "basic_auth_password": [
                "A password sent to a station as its AuthorizationKey may have at most 20 "
                "characters (OCPP 1.6: 16 to 20 bytes); this one has 21."
            ]
        }
        assert stored_hash(connected) == ""
        assert not Command.objects.exists()

    def test_without_the_flag_nothing_is_sent(self, api, connected):
        response = api.patch(url(connected), {"basic_auth_password": PUSHABLE}, format="json")

        assert response.status_code == 200
        assert not Command.objects.exists()

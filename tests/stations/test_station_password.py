"""A station's HTTP Basic password (OCPP security profile 1): stored as a hash only, checked in
constant time, validated as OCPP bounds it, and what it means for connecting without one."""

import string
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from stations import credentials
from stations.models import Station
from stations.services import (
    station_password_generate,
    station_password_push_outcome,
    station_password_used,
    station_set_password,
)
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Password-16+"


def stored_row(station: Station) -> dict:
    return Station.objects.filter(pk=station.pk).values().get()


def test_setting_a_password_stores_a_hash_and_never_the_password():
    station = StationFactory()

    station_set_password(station=station, password=PASSWORD)

    row = stored_row(station)
    algorithm, salt, digest = row["basic_auth_password_hash"].split("$")
    assert (algorithm, len(salt), len(digest)) == ("hmac_sha256", 32, 64)  # salted, fast
    assert not any(PASSWORD in str(value) for value in row.values())
    assert row["password_changed_at"] is not None


def test_the_right_password_is_accepted_and_any_other_refused():
    station = StationFactory()
    station_set_password(station=station, password=PASSWORD)
    station = Station.objects.get(pk=station.pk)

    assert station.has_password
    assert station.check_password(PASSWORD)
    assert not station.check_password(PASSWORD.upper())
    assert not station.check_password(PASSWORD + " ")
    assert not station.check_password("")


def test_a_station_without_a_password_accepts_no_password_at_all():
    station = StationFactory()

    assert not station.has_password
    assert not station.check_password("")
    assert not station.check_password(PASSWORD)


def test_rotating_the_password_makes_the_old_one_stop_working():
    station = StationFactory()
    station_set_password(station=station, password=PASSWORD)
    first_hash = stored_row(station)["basic_auth_password_hash"]

    station_set_password(station=station, password="another-password-42")

    station = Station.objects.get(pk=station.pk)
    assert station.basic_auth_password_hash != first_hash
    assert station.check_password("another-password-42")
    assert not station.check_password(PASSWORD)


def test_removing_the_password_leaves_none_and_records_when():
    station = StationFactory()
    station_set_password(station=station, password=PASSWORD)

    station_set_password(station=station, password=None)

    row = stored_row(station)
    assert row["basic_auth_password_hash"] == ""
    assert row["password_changed_at"] is not None
    assert not Station.objects.get(pk=station.pk).check_password(PASSWORD)


@pytest.mark.parametrize("length", [16, 40])
def test_16_and_40_characters_are_the_bounds_accepted(length):
    station = StationFactory()

    station_set_password(station=station, password="a" * length)

    assert Station.objects.get(pk=station.pk).check_password("a" * length)


@pytest.mark.parametrize("length", [15, 41])
def test_15_or_41_characters_are_refused_with_the_bounds_in_the_message(length):
    station = StationFactory()

    with pytest.raises(ValidationError) as refused:
        station_set_password(station=station, password="a" * length)

    assert refused.value.messages == [
        f"The password must be 16 to 40 characters long, not {length}."
    ]
    assert refused.value.code == "password_length"
    assert stored_row(station)["basic_auth_password_hash"] == ""


@pytest.mark.parametrize(
    "password", ["mot-de-passe-très-long", "tab\tinside-the-password", "€" * 16]
)
def test_characters_outside_printable_ascii_are_refused(password):
    station = StationFactory()

    with pytest.raises(ValidationError) as refused:
        station_set_password(station=station, password=password)

    assert refused.value.messages == [
        "The password may only contain printable ASCII characters: letters without accents, "
        "digits, punctuation and spaces."
    ]
    assert stored_row(station)["basic_auth_password_hash"] == ""


def test_a_generated_password_is_20_random_letters_and_digits():
    passwords = {station_password_generate() for _ in range(20)}

    assert len(passwords) == 20
    for password in passwords:
        assert len(password) == 20
        assert set(password) <= set(string.ascii_letters + string.digits)


def test_the_generated_password_is_one_a_station_may_have():
    station = StationFactory()
    password = station_password_generate()

    station_set_password(station=station, password=password)

    assert Station.objects.get(pk=station.pk).check_password(password)


@pytest.mark.parametrize(
    ("allowed", "has_password", "expected"),
    [(True, False, True), (False, False, False), (True, True, False), (False, True, False)],
)
def test_only_a_station_without_password_connects_without_one_and_only_where_allowed(
    settings, allowed, has_password, expected
):
    settings.OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD = allowed
    station = StationFactory()
    if has_password:
        station_set_password(station=station, password=PASSWORD)

    assert station.may_connect_without_password() is expected


class TestAPushedPassword:
    """Sent to the station, the new password is its own only once the station takes it."""

    @pytest.fixture
    def pushed(self):
        station = StationFactory()
        station_set_password(station=station, password=PASSWORD)
        station_set_password(station=station, password="The-new-one-2026")
        return Station.objects.get(pk=station.pk)

    def test_taken_both_passwords_stay_until_the_station_connects_with_the_new_one(self, pushed):
        station_password_push_outcome(station=pushed, taken=True, pushed_at=timezone.now())

        station = Station.objects.get(pk=pushed.pk)
        assert station.check_password("The-new-one-2026")
        assert credentials.verify(PASSWORD, station.previous_password_hash).matches

    def test_connecting_with_the_new_password_retires_the_old_one(self, pushed):
        station_password_used(
            station_id=pushed.pk, matched_hash=pushed.basic_auth_password_hash, previous=False
        )

        assert stored_row(pushed)["previous_password_hash"] == ""

    def test_connecting_with_the_old_password_keeps_both(self, pushed):
        station_password_used(
            station_id=pushed.pk, matched_hash=pushed.previous_password_hash, previous=True
        )

        station = Station.objects.get(pk=pushed.pk)
        assert station.check_password("The-new-one-2026")
        assert credentials.verify(PASSWORD, station.previous_password_hash).matches

    def test_refused_the_previous_password_is_the_station_s_again(self, pushed):
        station_password_push_outcome(station=pushed, taken=False, pushed_at=timezone.now())

        station = Station.objects.get(pk=pushed.pk)
        assert station.check_password(PASSWORD)
        assert not station.check_password("The-new-one-2026")

    def test_a_password_staff_set_after_the_push_is_kept(self, pushed):
        pushed_at = timezone.now() - timedelta(minutes=1)

        station_password_push_outcome(station=pushed, taken=False, pushed_at=pushed_at)

        assert Station.objects.get(pk=pushed.pk).check_password("The-new-one-2026")


def test_a_hash_of_an_earlier_version_still_opens_and_is_replaced_by_a_fast_one():
    station = StationFactory()
    legacy = make_password(PASSWORD)  # Django's user-password hasher, as stored before
    Station.objects.filter(pk=station.pk).update(basic_auth_password_hash=legacy)

    verdict = credentials.verify(PASSWORD, legacy)
    assert (verdict.matches, verdict.upgrade) == (True, True)
    assert credentials.needs_thread(legacy)
    station_password_used(
        station_id=station.pk,
        matched_hash=legacy,
        previous=False,
        upgraded_hash=credentials.make(PASSWORD),
    )

    upgraded = Station.objects.get(pk=station.pk)
    assert upgraded.basic_auth_password_hash.startswith("hmac_sha256$")
    assert upgraded.check_password(PASSWORD)


def test_a_damaged_or_missing_hash_matches_nothing():
    assert not credentials.verify(PASSWORD, "").matches
    assert not credentials.verify(PASSWORD, "hmac_sha256$zz$00").matches
    assert not credentials.verify("", credentials.make(PASSWORD)).matches

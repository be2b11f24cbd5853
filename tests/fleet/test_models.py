"""Vehicles: plates are unique whatever their case."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fleet.models import Vehicle, normalize_license_plate
from tests.factories import CompanyFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("ft-123-er", "FT-123-ER"), ("  Ft-123-eR ", "FT-123-ER"), ("FT-123-ER", "FT-123-ER")],
)
def test_normalize_license_plate_trims_and_upper_cases(typed, stored):
    assert normalize_license_plate(typed) == stored


def test_full_clean_upper_cases_the_plate():
    vehicle = Vehicle(company=CompanyFactory(), license_plate=" ft-123-er ")
    vehicle.full_clean()
    assert vehicle.license_plate == "FT-123-ER"


@pytest.mark.parametrize("typed", ["ft-123-er", "FT-123-ER", "Ft-123-Er "])
def test_full_clean_refuses_a_plate_that_exists_in_another_case(typed):
    VehicleFactory(license_plate="FT-123-ER")
    with pytest.raises(ValidationError) as caught:
        Vehicle(company=CompanyFactory(), license_plate=typed).full_clean()
    messages = [message for errors in caught.value.message_dict.values() for message in errors]
    assert any("already exists" in message for message in messages)


def test_full_clean_of_a_saved_vehicle_does_not_find_itself_a_duplicate():
    VehicleFactory(license_plate="FT-123-ER").full_clean()


def test_the_database_refuses_a_plate_that_exists_in_another_case():
    VehicleFactory(license_plate="FT-123-ER")
    with pytest.raises(IntegrityError), transaction.atomic():
        Vehicle.objects.create(company=CompanyFactory(), license_plate="ft-123-er")
    assert Vehicle.objects.count() == 1


def test_a_vehicle_is_active_by_default_and_shows_its_plate_and_model():
    vehicle = VehicleFactory(license_plate="FT-123-ER", make="Renault", model="Kangoo E-Tech")
    assert vehicle.active
    assert str(vehicle) == "FT-123-ER (Renault Kangoo E-Tech)"
    assert str(VehicleFactory(license_plate="GH-456-IJ", make="", model="")) == "GH-456-IJ"

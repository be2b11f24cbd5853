"""Badge.clean and the constraints behind it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from badges.models import Badge, BadgeMode, BadgeState, BadgeType, BadgeUsage
from tests.factories import BadgeFactory, CompanyFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return CompanyFactory()


@pytest.fixture
def vehicle(company):
    return VehicleFactory(company=company, license_plate="FT-123-ER")


def new_badge(company, vehicle=None, **kwargs):
    """An unsaved badge as a form would build it: only what staff typed."""
    fields = {
        "rfid": "VID:A014310E004E",
        "company": company,
        "vehicle": vehicle,
        "mode": BadgeMode.VEHICLE,
    }
    fields.update(kwargs)
    return Badge(**fields)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("vid:a0:14:31:0e:00:4e", "VID:A014310E004E"),
        ("VID:A0-14-31-0E-00-4E", "VID:A014310E004E"),
        (" VID:0000A014310E004E ", "VID:A014310E004E"),
        ("04a1b2c3d4e5f6", "04A1B2C3D4E5F6"),
    ],
)
def test_full_clean_canonicalises_the_rfid(company, vehicle, typed, stored):
    badge = new_badge(company, vehicle, rfid=typed)
    badge.full_clean()
    assert badge.rfid == stored
    badge.save()
    assert Badge.objects.get(rfid=stored) == badge


def test_full_clean_refuses_a_malformed_vid_with_its_message(company, vehicle):
    badge = new_badge(company, vehicle, rfid="VID:FFFFFFFFFFFF")
    with pytest.raises(ValidationError) as caught:
        badge.full_clean()
    assert "placeholder" in caught.value.message_dict["rfid"][0]


def test_full_clean_refuses_an_empty_rfid(company, vehicle):
    with pytest.raises(ValidationError) as caught:
        new_badge(company, vehicle, rfid="").full_clean()
    assert "rfid" in caught.value.message_dict


def test_the_defaults_are_those_of_the_seed_procedure(company, vehicle):
    badge = new_badge(company, vehicle)
    badge.full_clean()
    assert badge.type == BadgeType.PHYSICAL
    assert badge.state == BadgeState.ENABLED
    assert badge.usage == BadgeUsage.PROFESSIONAL
    assert badge.mode == BadgeMode.VEHICLE


def test_the_visual_number_defaults_to_the_mac(company, vehicle):
    badge = new_badge(company, vehicle, rfid="vid:a0:14:31:0e:00:4e")
    badge.full_clean()
    assert badge.visual_number == "A014310E004E"
    assert badge.mac == "A014310E004E"
    assert badge.is_autocharge


def test_a_typed_visual_number_is_kept(company, vehicle):
    badge = new_badge(company, vehicle, visual_number="42")
    badge.full_clean()
    assert badge.visual_number == "42"


def test_an_rfid_badge_gets_no_default_visual_number(company, vehicle):
    badge = new_badge(company, vehicle, rfid="04a1b2c3")
    badge.full_clean()
    assert badge.visual_number == ""
    assert badge.mac is None
    assert not badge.is_autocharge


@pytest.mark.parametrize(
    "typed", ["", "   ", "Autocharge badge, vehicle", "  Autocharge badge, vehicle  "]
)
def test_an_empty_or_unfinished_description_names_the_vehicle(company, vehicle, typed):
    badge = new_badge(company, vehicle, description=typed)
    badge.full_clean()
    assert badge.description == "Autocharge badge, vehicle FT-123-ER"


def test_a_written_description_is_kept(company, vehicle):
    badge = new_badge(company, vehicle, description="Van of the night shift")
    badge.full_clean()
    assert badge.description == "Van of the night shift"


def test_an_rfid_badge_gets_no_autocharge_description(company, vehicle):
    badge = new_badge(company, vehicle, rfid="04A1B2C3")
    badge.full_clean()
    assert badge.description == ""


def test_vehicle_mode_without_vehicle_is_refused(company):
    with pytest.raises(ValidationError) as caught:
        new_badge(company, None).full_clean()
    assert caught.value.message_dict["vehicle"] == [
        "A badge in vehicle mode must name its vehicle."
    ]


def test_a_vehicle_of_another_company_is_refused(company):
    other = CompanyFactory(name="Other Fleet")
    foreign = VehicleFactory(company=other, license_plate="GH-456-IJ")
    with pytest.raises(ValidationError) as caught:
        new_badge(company, foreign).full_clean()
    assert caught.value.message_dict["vehicle"] == [
        "The vehicle GH-456-IJ belongs to Other Fleet, not to the badge's company."
    ]


def test_company_mode_with_a_vehicle_is_refused(company, vehicle):
    with pytest.raises(ValidationError) as caught:
        new_badge(company, vehicle, mode=BadgeMode.COMPANY).full_clean()
    assert "choose vehicle mode" in caught.value.message_dict["vehicle"][0]


def test_company_mode_without_vehicle_is_valid(company):
    badge = new_badge(company, None, mode=BadgeMode.COMPANY, rfid="04a1b2c3")
    badge.full_clean()
    badge.save()
    assert badge.rfid == "04A1B2C3"


@pytest.mark.parametrize(
    "typed", ["vid:a014310e004e", "VID:A0:14:31:0E:00:4E", "VID:0000A014310E004E"]
)
def test_a_second_badge_for_the_same_mac_in_another_form_is_refused(company, vehicle, typed):
    BadgeFactory(company=company, rfid="VID:A014310E004E")
    other_vehicle = VehicleFactory(company=company)
    with pytest.raises(ValidationError) as caught:
        new_badge(company, other_vehicle, rfid=typed).full_clean()
    assert caught.value.message_dict["rfid"] == ["A badge with this RFID already exists."]


def test_a_second_rfid_badge_in_another_case_is_refused(company):
    BadgeFactory(company=company, mode=BadgeMode.COMPANY, vehicle=None, rfid="04A1B2C3")
    with pytest.raises(ValidationError) as caught:
        new_badge(company, None, mode=BadgeMode.COMPANY, rfid="04a1b2c3").full_clean()
    assert "rfid" in caught.value.message_dict


def test_full_clean_of_a_saved_badge_does_not_find_itself_a_duplicate(company, vehicle):
    badge = BadgeFactory(company=company, vehicle=vehicle)
    badge.full_clean()


def test_the_database_refuses_a_lowercase_rfid_written_around_clean(company, vehicle):
    with pytest.raises(IntegrityError), transaction.atomic():
        Badge.objects.create(rfid="vid:a014310e004e", company=company, vehicle=vehicle)
    assert not Badge.objects.exists()


def test_the_database_refuses_vehicle_mode_without_vehicle(company):
    with pytest.raises(IntegrityError), transaction.atomic():
        Badge.objects.create(rfid="VID:A014310E004E", company=company, vehicle=None)


def test_the_autocharge_and_enabled_querysets(company, vehicle):
    vid = BadgeFactory(company=company, vehicle=vehicle)
    BadgeFactory(company=company, rfid="04A1B2C3", state=BadgeState.DISABLED)
    assert list(Badge.objects.autocharge()) == [vid]
    assert list(Badge.objects.enabled()) == [vid]

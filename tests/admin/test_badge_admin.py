"""The badge admin: the seed's "Add a badge" form, its list filters and search, and what a
badge created through it looks like in the database."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from badges.models import Badge, BadgeState, BadgeType
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:badges_badge_add")
CHANGELIST_URL = reverse("admin:badges_badge_changelist")


def rendered_fieldsets(content: str) -> list[tuple[str, list[str]]]:
    """``(heading, [field names])`` of each fieldset, in page order."""
    fieldsets = []
    for chunk in re.findall(r'<fieldset class="module aligned.*?</fieldset>', content, re.S):
        heading = re.search(r'class="fieldset-heading">(.*?)</h2>', chunk).group(1)
        names = re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', chunk)
        fields = []
        for name in names:
            field = re.sub(r"_\d$", "", name)  # the split date-time widget's two inputs
            if field not in fields:
                fields.append(field)
        fieldsets.append((heading, fields))
    return fieldsets


def badge_form(**overrides) -> dict:
    """What the add form posts, with the seed's recommended values."""
    data = {
        "rfid": "",
        "visual_number": "",
        "type": "physical",
        "state": "enabled",
        "provider": "",
        "description": "",
        "expires_at_0": "",
        "expires_at_1": "",
        "usage": "professional",
        "mode": "vehicle",
        "company": "",
        "vehicle": "",
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- The form ---------------------------------------------------------------------------------


def test_the_add_form_has_the_seed_s_two_fieldsets_in_order(english_client):
    response = english_client.get(ADD_URL)

    assert response.status_code == 200
    assert rendered_fieldsets(response.content.decode()) == [
        (
            "Badge",
            ["rfid", "visual_number", "type", "state", "provider", "description", "expires_at"],
        ),
        ("Attribution and usage", ["usage", "mode", "company", "vehicle", "groups"]),
    ]


def test_the_french_add_form_names_the_second_fieldset_as_the_seed_does(french_client):
    response = french_client.get(ADD_URL)

    headings = [heading for heading, _ in rendered_fieldsets(response.content.decode())]
    assert headings == ["Badge", "Attribution et utilisation"]


def test_a_new_badge_defaults_to_physical_enabled_professional_vehicle(english_client):
    form = english_client.get(ADD_URL).context["adminform"].form

    assert {name: form[name].value() for name in ["type", "state", "usage", "mode"]} == {
        "type": "physical",
        "state": "enabled",
        "usage": "professional",
        "mode": "vehicle",
    }


# --- Creating a badge -------------------------------------------------------------------------


def test_a_badge_posted_with_a_lowercase_separated_vid_is_stored_canonical(english_client, vehicle):
    response = english_client.post(
        ADD_URL,
        badge_form(rfid="vid:a0:14:31:0e:00:4e", company=vehicle.company.pk, vehicle=vehicle.pk),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    badge = Badge.objects.get()
    assert badge.rfid == "VID:A014310E004E"
    assert badge.visual_number == "A014310E004E"
    assert badge.description == "Autocharge badge, vehicle FT-123-ER"
    assert (badge.type, badge.state, badge.usage, badge.mode) == (
        "physical",
        "enabled",
        "professional",
        "vehicle",
    )
    assert (badge.company, badge.vehicle) == (vehicle.company, vehicle)
    assert badge.is_autocharge


def test_a_visual_number_and_description_given_by_staff_are_kept(english_client, vehicle):
    english_client.post(
        ADD_URL,
        badge_form(
            rfid="VID:A014310E004E",
            visual_number="42",
            description="Kangoo of the night shift",
            company=vehicle.company.pk,
            vehicle=vehicle.pk,
        ),
    )

    badge = Badge.objects.get()
    assert (badge.visual_number, badge.description) == ("42", "Kangoo of the night shift")


def test_a_badge_is_created_with_its_provider_and_groups(english_client, vehicle):
    provider = CompanyFactory(name="Borne Services")
    group = AuthorizationGroupFactory(company=vehicle.company)

    response = english_client.post(
        ADD_URL,
        badge_form(
            rfid="VID:A014310E004E",
            provider=provider.pk,
            company=vehicle.company.pk,
            vehicle=vehicle.pk,
            groups=[group.pk],
        ),
    )

    assert response.status_code == 302
    badge = Badge.objects.get()
    assert badge.provider == provider
    assert list(badge.groups.all()) == [group]


def test_an_rfid_card_is_stored_upper_case_without_a_visual_number_or_description(
    english_client, company
):
    response = english_client.post(
        ADD_URL, badge_form(rfid=" 04a2b3c4d5e6f7 ", mode="company", company=company.pk)
    )

    assert response.status_code == 302
    badge = Badge.objects.get()
    assert (badge.rfid, badge.visual_number, badge.description) == ("04A2B3C4D5E6F7", "", "")
    assert not badge.is_autocharge


REFUSED = [
    pytest.param(
        {"rfid": "VID:A014310E00"},
        "rfid",
        "A MAC address has 12 hexadecimal digits, “A014310E00” has 10.",
        id="malformed VID",
    ),
    pytest.param(
        {"rfid": "VID:A014310E00ZZ"},
        "rfid",
        "The MAC address may only contain hexadecimal digits (0-9, A-F), got “A014310E00ZZ”.",
        id="not hexadecimal",
    ),
    pytest.param(
        {"rfid": "VID:"},
        "rfid",
        "An Autocharge tag must carry the vehicle's MAC address after VID:.",
        id="VID without MAC",
    ),
    pytest.param(
        {"rfid": "VID:000000000000"},
        "rfid",
        "000000000000 is a placeholder address that vehicles send when they have none.",
        id="placeholder MAC",
    ),
    pytest.param(
        {"rfid": "VID:A1:14:31:0E:00:4E"},
        "rfid",
        "A114310E004E is a multicast address, not the address of one vehicle.",
        id="multicast MAC",
    ),
    pytest.param(
        {"vehicle": ""},
        "vehicle",
        "A badge in vehicle mode must name its vehicle.",
        id="vehicle mode without vehicle",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "message"), REFUSED)
def test_a_badge_the_form_refuses_shows_why_and_creates_nothing(
    english_client, vehicle, overrides, field, message
):
    data = badge_form(rfid="VID:A014310E004E", company=vehicle.company.pk, vehicle=vehicle.pk)
    data.update(overrides)

    response = english_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert escape(message) in response.content.decode()
    assert not Badge.objects.exists()


def test_a_mac_that_already_has_a_badge_in_another_case_is_refused(english_client, vehicle):
    existing = BadgeFactory(rfid="VID:A014310E004E")
    message = "A badge with this RFID already exists."

    response = english_client.post(
        ADD_URL,
        badge_form(rfid="vid:a0-14-31-0e-00-4e", company=vehicle.company.pk, vehicle=vehicle.pk),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rfid"] == [message]
    assert message in response.content.decode()
    assert list(Badge.objects.all()) == [existing]


def test_a_vehicle_of_another_company_is_refused(english_client, vehicle):
    other = CompanyFactory(name="Taxis Bleus")
    message = "The vehicle FT-123-ER belongs to Transports Martin, not to the badge's company."

    response = english_client.post(
        ADD_URL, badge_form(rfid="VID:A014310E004E", company=other.pk, vehicle=vehicle.pk)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["vehicle"] == [message]
    assert escape(message) in response.content.decode()
    assert not Badge.objects.exists()


def test_a_shared_company_badge_naming_a_vehicle_is_refused(english_client, vehicle):
    response = english_client.post(
        ADD_URL,
        badge_form(
            rfid="04A2B3C4D5E6F7", mode="company", company=vehicle.company.pk, vehicle=vehicle.pk
        ),
    )

    assert response.context["adminform"].form.errors["vehicle"] == [
        "A shared company badge is not attributed to a vehicle: choose vehicle mode."
    ]
    assert not Badge.objects.exists()


def test_changing_a_badge_keeps_it_canonical_and_keeps_its_description(english_client):
    badge = BadgeFactory(rfid="VID:A014310E004E", description="Kangoo FT-123-ER")

    response = english_client.post(
        reverse("admin:badges_badge_change", args=[badge.pk]),
        badge_form(
            rfid="vid:a014310e004f",
            visual_number=badge.visual_number,
            description=badge.description,
            state="disabled",
            company=badge.company.pk,
            vehicle=badge.vehicle.pk,
        ),
    )

    assert response.status_code == 302
    badge.refresh_from_db()
    assert (badge.rfid, badge.state, badge.description) == (
        "VID:A014310E004F",
        "disabled",
        "Kangoo FT-123-ER",
    )


# --- List filters and search ------------------------------------------------------------------


@pytest.fixture
def badges():
    """Four badges that differ on every filtered column."""
    fleet, other = CompanyFactory(name="Transports Martin"), CompanyFactory(name="Taxis Bleus")
    return {
        "vehicle": BadgeFactory(
            rfid="VID:A014310E004E",
            company=fleet,
            vehicle=VehicleFactory(company=fleet, license_plate="FT-123-ER"),
        ),
        "disabled": BadgeFactory(
            rfid="VID:A014310E0050",
            visual_number="V-0050",
            state=BadgeState.DISABLED,
            company=fleet,
            vehicle=VehicleFactory(company=fleet, license_plate="GH-456-IJ"),
        ),
        "card": BadgeFactory(
            rfid="04A2B3C4D5E6F7",
            visual_number="CARD-7",
            mode="company",
            vehicle=None,
            company=fleet,
        ),
        "virtual": BadgeFactory(
            rfid="VID:02AABBCCDDEE",
            type=BadgeType.VIRTUAL,
            company=other,
            vehicle=VehicleFactory(company=other, license_plate="KL-789-MN"),
        ),
    }


def listed(client, **query) -> set:
    response = client.get(CHANGELIST_URL, query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"vehicle", "disabled", "card", "virtual"}),
        ({"state__exact": "enabled"}, {"vehicle", "card", "virtual"}),
        ({"state__exact": "disabled"}, {"disabled"}),
        ({"type__exact": "virtual"}, {"virtual"}),
        ({"type__exact": "physical"}, {"vehicle", "disabled", "card"}),
        ({"autocharge": "yes"}, {"vehicle", "disabled", "virtual"}),
        ({"autocharge": "no"}, {"card"}),
        ({"autocharge": "yes", "state__exact": "enabled"}, {"vehicle", "virtual"}),
        ({"mode__exact": "company"}, {"card"}),
    ],
)
def test_the_badge_list_filters_narrow_the_list(english_client, badges, query, expected):
    assert listed(english_client, **query) == {badges[name] for name in expected}


def test_the_badge_list_filters_on_company(english_client, badges):
    other = badges["virtual"].company

    assert listed(english_client, company__id__exact=other.pk) == {badges["virtual"]}


def test_the_badge_list_offers_the_filters_staff_need(english_client, badges):
    content = english_client.get(CHANGELIST_URL).content.decode()

    for heading in ["By state", "By type", "By Autocharge", "By company"]:
        assert heading in content, heading
    assert "Autocharge (VID:)" in content
    assert "RFID cards" in content


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("VID:A014310E004E", {"vehicle"}),
        ("a014310e", {"vehicle", "disabled"}),
        ("04A2B3", {"card"}),
        ("V-0050", {"disabled"}),
        ("CARD-7", {"card"}),
        ("ft-123", {"vehicle"}),
        ("KL-789-MN", {"virtual"}),
        ("nothing-like-this", set()),
    ],
)
def test_the_badge_list_searches_rfid_visual_number_and_licence_plate(
    english_client, badges, search, expected
):
    assert listed(english_client, q=search) == {badges[name] for name in expected}


def test_the_badge_list_shows_which_badges_are_autocharge(english_client, badges):
    response = english_client.get(CHANGELIST_URL, {"q": "04A2B3C4D5E6F7"})

    content = response.content.decode()
    assert "04A2B3C4D5E6F7" in content
    assert 'alt="False"' in content
    assert 'alt="True"' not in content


def test_the_vehicle_picker_finds_a_vehicle_by_plate(english_client, badges):
    response = english_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "badges", "model_name": "badge", "field_name": "vehicle", "term": "gh-456"},
    )

    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == [
        str(badges["disabled"].vehicle)
    ]

"""Companies, vehicles and authorization groups as staff create them in the admin."""

import pytest
from django.urls import reverse

from fleet.models import AuthorizationGroup, Company, Vehicle
from tests.factories import StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def test_staff_create_a_company(english_client):
    response = english_client.post(
        reverse("admin:fleet_company_add"),
        {"name": "Transports Martin", "contact_email": "flotte@martin.example", "_save": "Save"},
    )

    assert response.status_code == 302
    assert Company.objects.get().contact_email == "flotte@martin.example"


def test_a_vehicle_created_in_the_admin_has_its_plate_in_upper_case(english_client, company):
    response = english_client.post(
        reverse("admin:fleet_vehicle_add"),
        {
            "license_plate": " ft-123-er ",
            "company": company.pk,
            "charging_priority": 1,  # the form's initial value, as a browser posts it
            "active": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Vehicle.objects.get().license_plate == "FT-123-ER"


def test_a_plate_that_exists_in_another_case_is_refused(english_client, company):
    VehicleFactory(license_plate="FT-123-ER")

    response = english_client.post(
        reverse("admin:fleet_vehicle_add"),
        {"license_plate": "ft-123-er", "company": company.pk, "active": "on", "_save": "Save"},
    )

    assert response.status_code == 200
    assert "A vehicle with this license plate already exists." in response.content.decode()
    assert Vehicle.objects.count() == 1


def test_the_vehicle_list_searches_plates_and_filters_on_company(english_client, vehicle):
    other = VehicleFactory(license_plate="KL-789-MN")
    changelist = reverse("admin:fleet_vehicle_changelist")

    def listed(**query):
        return list(english_client.get(changelist, query).context["cl"].result_list)

    assert listed(q="ft-123") == [vehicle]
    assert listed(company__id__exact=other.company.pk) == [other]
    assert listed(active__exact="0") == []


def test_staff_create_an_authorization_group_with_its_stations(english_client, company):
    stations = [StationFactory(), StationFactory()]

    response = english_client.post(
        reverse("admin:fleet_authorizationgroup_add"),
        {
            "name": "Dépôts partagés",
            "company": company.pk,
            "stations": [station.pk for station in stations],
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    group = AuthorizationGroup.objects.get()
    assert set(group.stations.all()) == set(stations)

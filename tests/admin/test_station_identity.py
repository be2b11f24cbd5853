"""The admin refuses a station whose charge point id no station could connect with, saying
why (the model's validator: see tests/stations/test_station_identity.py)."""

import pytest
from django.urls import reverse

from stations.models import Station
from tests.factories import CompanyFactory
from tests.stations.test_station_identity import REFUSED


@pytest.mark.django_db
@pytest.mark.parametrize(("charge_point_id", "message"), REFUSED[:4])
def test_the_admin_refuses_such_a_station_with_the_message(admin_client, charge_point_id, message):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    company = CompanyFactory()

    response = admin_client.post(
        reverse("admin:stations_station_add"),
        {
            "charge_point_id": charge_point_id,
            "company": company.pk,
            "auth_mode": "badge",
            "connectors-TOTAL_FORMS": "0",
            "connectors-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200  # the form again, not a redirect
    assert response.context["adminform"].form.errors["charge_point_id"] == [message]
    assert not Station.objects.exists()


@pytest.mark.django_db
def test_the_admin_still_creates_a_station_with_a_valid_identity(admin_client):
    company = CompanyFactory()
    response = admin_client.post(
        reverse("admin:stations_station_add"),
        {
            "charge_point_id": "DEPOT-EAST_1",
            "company": company.pk,
            "auth_mode": "badge",
            "connectors-TOTAL_FORMS": "0",
            "connectors-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Station.objects.filter(charge_point_id="DEPOT-EAST_1").exists()


@pytest.mark.django_db
def test_the_admin_says_it_in_french_too(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    company = CompanyFactory()
    response = admin_client.post(
        reverse("admin:stations_station_add"),
        {
            "charge_point_id": "DEPOT/1",
            "company": company.pk,
            "auth_mode": "badge",
            "connectors-TOTAL_FORMS": "0",
            "connectors-INITIAL_FORMS": "0",
        },
    )
    assert response.context["adminform"].form.errors["charge_point_id"] == [
        "L’identifiant d’une borne ne peut pas contenir « / » : c’est la dernière partie de "
        "l’URL de la borne (/ocpp/<id>)."
    ]

"""The REST API refuses a station whose charge point id no station could connect with, with
a 400 saying why (the model's validator: see tests/stations/test_station_identity.py)."""

import pytest

from stations.models import Station
from tests.factories import CompanyFactory
from tests.stations.test_station_identity import REFUSED, SLASH


@pytest.mark.django_db
@pytest.mark.parametrize(("charge_point_id", "message"), REFUSED[:4])
def test_the_api_refuses_such_a_station_with_a_400_and_the_message(api, charge_point_id, message):
    company = CompanyFactory()

    response = api.post(
        "/api/v1/stations/",
        {"charge_point_id": charge_point_id, "company": company.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"charge_point_id": [message]}
    assert not Station.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_renaming_a_station_to_such_an_identity(api):
    company = CompanyFactory()
    created = api.post(
        "/api/v1/stations/", {"charge_point_id": "CP-OK", "company": company.pk}, format="json"
    )
    assert created.status_code == 201, created.json()

    response = api.patch(
        f"/api/v1/stations/{created.json()['id']}/", {"charge_point_id": "CP/OK"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"charge_point_id": [SLASH]}
    assert Station.objects.get().charge_point_id == "CP-OK"

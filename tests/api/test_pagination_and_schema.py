"""List pagination and the OpenAPI schema."""

import pytest
from django.conf import settings

from fleet.models import Company

pytestmark = pytest.mark.django_db

PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]


def test_the_page_size_is_the_configured_one():
    assert PAGE_SIZE == 50


def test_lists_are_paginated_with_count_next_previous_results(api):
    Company.objects.bulk_create(Company(name=f"Company {n:03d}") for n in range(PAGE_SIZE + 1))

    first = api.get("/api/v1/companies/")

    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == PAGE_SIZE + 1
    assert len(body["results"]) == PAGE_SIZE
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/companies/?page=2"

    second = api.get(body["next"]).json()

    assert second["count"] == PAGE_SIZE + 1
    assert [c["name"] for c in second["results"]] == [f"Company {PAGE_SIZE:03d}"]
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/companies/"


def test_an_empty_list_is_a_page_too(api):
    response = api.get("/api/v1/ocpp-messages/")

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_page_past_the_end_is_a_404(api):
    assert api.get("/api/v1/companies/", {"page": 2}).status_code == 404


def test_the_openapi_schema_lists_every_endpoint(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Autocharge supervision API"
    paths = schema["paths"]
    for resource in (
        "companies",
        "vehicles",
        "groups",
        "badges",
        "stations",
        "sessions",
        "ocpp-messages",
    ):
        assert f"/api/v1/{resource}/" in paths
        assert f"/api/v1/{resource}/{{id}}/" in paths or any(
            path.startswith(f"/api/v1/{resource}/{{") for path in paths
        )
    assert "/api/v1/auth/token/" in paths
    assert "post" in paths["/api/v1/badges/"]
    assert "post" not in paths["/api/v1/sessions/"]
    badge_filters = {p["name"] for p in paths["/api/v1/badges/"]["get"]["parameters"]}
    assert {"rfid", "state", "company", "vehicle", "page"} <= badge_filters


def test_the_schema_marks_station_reported_fields_read_only(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    station = schema["components"]["schemas"]["Station"]["properties"]
    for field in ("vendor", "model", "serial_number", "firmware_version", "connection_state"):
        assert station[field].get("readOnly") is True, field
    badge = schema["components"]["schemas"]["Badge"]["properties"]
    assert badge["is_autocharge"]["readOnly"] is True
    assert badge["mac"]["readOnly"] is True

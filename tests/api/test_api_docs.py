"""The API's documentation: Swagger UI and ReDoc pages from the portal's own files, and the
schema's examples of the fields other systems exchange with it."""

import re

import pytest
from django.test import Client

from supervision.api_docs import FIELD_EXAMPLES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_documentation_pages_load_their_files_from_this_server(path):
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/schema/" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/static/drf_spectacular_sidecar/") for source in sources)
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_contract_fields_carry_examples(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemas = schema["components"]["schemas"]

    def example(component: str, field: str):
        return schemas[component]["properties"][field].get("example")

    assert example("Badge", "rfid") == "VID:001A2B3C4D5E"
    assert example("Vehicle", "license_plate") == FIELD_EXAMPLES["license_plate"]
    assert example("Vehicle", "vin") == FIELD_EXAMPLES["vin"]
    assert example("Station", "charge_point_id") == FIELD_EXAMPLES["charge_point_id"]
    assert example("Company", "contact_email") == FIELD_EXAMPLES["contact_email"]
    # Wherever one of those fields appears, it has its example.
    missing = [
        f"{component}.{name}"
        for component, body in schemas.items()
        for name, field in body.get("properties", {}).items()
        if name in FIELD_EXAMPLES and field.get("type") != "array" and "example" not in field
    ]
    assert missing == []
    # And every operation says what it does.
    undescribed = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not operation.get("description")
    ]
    assert undescribed == []

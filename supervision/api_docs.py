"""The API's documentation pages: Swagger UI (/api/v1/docs/) and ReDoc (/api/v1/redoc/),
their files served by the portal (drf-spectacular-sidecar). A Content-Security-Policy keeps the
browser from asking any other host for anything (ReDoc's footer logo, fonts)."""

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

# Both pages start their viewer with an inline script; ReDoc runs a worker from a blob.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


class _OwnHostOnly:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


class SwaggerUi(_OwnHostOnly, SpectacularSwaggerView):
    pass


class Redoc(_OwnHostOnly, SpectacularRedocView):
    template_name = "supervision/redoc.html"


# Examples of the fields other systems exchange with the portal, shown in the schema and in
# both documentation pages wherever a serializer has a field of that name.
FIELD_EXAMPLES = {
    "rfid": "VID:001A2B3C4D5E",
    "id_tag": "04A2B3C4D5E6F7",
    "charge_point_id": "ACME-PARIS-01",
    "connector_id": 1,
    "license_plate": "AB-123-CD",
    "vin": "VF1RFB00X12345678",
    "contact_email": "fleet@acme.example",
    "expires_at": "2027-06-30T23:59:59Z",
    "energy_wh": 12000,
    "meter_start": 1520000,
    "meter_stop": 1532000,
    "started_at": "2026-12-06T08:15:00Z",
    "stopped_at": "2026-12-06T09:40:00Z",
    "reason": "Station lost power; energy from the vehicle's own log.",
    "visual_number": "ACME-0042",
}


def add_field_examples(result, generator, request, public):
    """drf-spectacular postprocessing hook: FIELD_EXAMPLES on every schema's properties of
    those names (an example a serializer gives itself is kept)."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        for name, field in schema.get("properties", {}).items():
            if name in FIELD_EXAMPLES and "example" not in field and field.get("type") != "array":
                field["example"] = FIELD_EXAMPLES[name]
    return result

"""A report's period at the ends of the calendar is a form error with a message, in English and
French, never a 500; so is an id past any integer in a portal URL a 404."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("0001-01-01", "2025-01-31", "greater than or equal to 2000-01-01"),
        ("2025-01-01", "9999-12-31", "less than or equal to 2999-12-31"),
        ("9999-12-31", "9999-12-31", "less than or equal to 2999-12-31"),
    ],
)
def test_a_period_at_the_ends_of_the_calendar_is_explained(alpha_client, start, end, message):
    response = alpha_client.get(reverse("portal:report"), {"start": start, "end": end})

    assert response.status_code == 200
    assert "report" not in response.context
    assert message in response.content.decode()


def test_the_explanation_is_in_french(alpha_client):
    response = alpha_client.get(
        reverse("portal:report"),
        {"start": "0001-01-01", "end": "2025-01-31"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert "supérieure ou égale à 2000-01-01" in response.content.decode()


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_a_download_at_the_ends_of_the_calendar_goes_back_to_the_report_page(
    alpha_client, extension
):
    response = alpha_client.get(
        reverse("portal:report-download", args=[extension]),
        {"start": "2025-01-01", "end": "9999-12-31"},
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:report"))


def test_the_widest_period_allowed_is_reported(alpha_client):
    response = alpha_client.get(
        reverse("portal:report"), {"start": "2000-01-01", "end": "2999-12-31"}
    )

    assert response.context["report"].total["sessions"] == 0


@pytest.mark.parametrize("name", ["portal:station-detail", "portal:vehicle-detail"])
def test_an_id_past_any_integer_is_a_404(alpha_client, name):
    assert alpha_client.get(reverse(name, args=[2**63])).status_code == 404

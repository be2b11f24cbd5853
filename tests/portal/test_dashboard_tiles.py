"""The dashboard's tiles count what they say: vehicles refused today, not refusals."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badges.models import UnknownVehicle, VehicleSighting
from stations.enrolment import authorization_request

pytestmark = pytest.mark.django_db


def refused_tile(page: str) -> int:
    match = re.search(r'<span class="tile-value" data-testid="vehicles-refused">(\d+)</span>', page)
    assert match, page
    return int(match.group(1))


def test_the_refused_tile_counts_distinct_vehicles_not_refusals(alpha_client, alpha, beta):
    # Three vehicles, six refusals (one spelled two ways); another company's is not counted.
    for id_tag in [
        "VID:A014310E0ABC",
        "vid:a0:14:31:0e:0a:bc",
        "VID:A014310E0ABC",
        "VID:A014310E0DEF",
        "VID:A014310E0DEF",
        "VID:02AABBCCDD01",
    ]:
        authorization_request(id_tag=id_tag, station=alpha.station)
    authorization_request(id_tag="VID:A014310E0FFF", station=beta.station)
    # Refused yesterday: not today.
    yesterday = VehicleSighting.objects.filter(mac="02AABBCCDD01")
    yesterday.update(seen_at=timezone.now() - timedelta(days=2))
    authorization_request(id_tag="VID:02AABBCCDD02", station=alpha.station)

    response = alpha_client.get(reverse("portal:dashboard"))

    assert response.context["dashboard"].vehicles_refused_today == 3
    assert refused_tile(response.content.decode()) == 3
    french = alpha_client.get(reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE="fr")
    assert refused_tile(french.content.decode()) == 3
    assert "véhicules refusés aujourd’hui" in french.content.decode()


def test_an_unknown_vehicle_links_to_its_inbox_entry_with_the_enrol_button(alpha_client, alpha):
    authorization_request(id_tag="VID:A014310E0ABC", station=alpha.station)
    entry = UnknownVehicle.objects.get()

    page = alpha_client.get(reverse("portal:dashboard")).content.decode()
    entry_url = reverse("admin:badges_unknownvehicle_change", args=[entry.pk])
    assert f'<a href="{entry_url}"><code>VID:A014310E0ABC</code></a>' in page

    entry_page = alpha_client.get(entry_url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    enrol_url = reverse("admin:badges_unknownvehicle_enrol", args=[entry.pk])
    assert f'<a href="{enrol_url}" class="enrol-link">Enrôler</a>' in entry_page

"""Search, filters and sorting of the portal's lists, from the query string: scoped to the
viewer's company, kept across pages and column sorts, in French too; what cannot be read is
ignored, never an error page."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from badges.models import VehicleSighting
from portal.views import PAGE_SIZE
from stations.enrolment import authorization_request
from stations.models import ConnectionState, Station
from tests.factories import BadgeFactory, StationFactory, VehicleFactory
from tests.portal.test_pages import charge

pytestmark = pytest.mark.django_db


def listed(client, name: str, context_name: str, **query) -> list:
    response = client.get(reverse(name), query)
    assert response.status_code == 200
    return list(response.context[context_name])


def stations(client, **query) -> list[str]:
    return [
        s.charge_point_id for s in listed(client, "portal:station-list", "station_list", **query)
    ]


def test_stations_searched_filtered_and_sorted(alpha_client, alpha, beta):
    StationFactory(company=alpha.company, charge_point_id="CP-NORD", name="Dépôt Nord")
    StationFactory(company=alpha.company, charge_point_id="CP-SUD", vendor="Kempower")
    Station.objects.filter(charge_point_id="CP-SUD").update(
        connection_state=ConnectionState.CONNECTED, last_heartbeat_at=timezone.now()
    )

    assert stations(alpha_client) == ["CP-ALPHA", "CP-NORD", "CP-SUD"]  # not beta's
    assert stations(alpha_client, q="nord") == ["CP-NORD"]  # the name
    assert stations(alpha_client, q="kempower") == ["CP-SUD"]  # the vendor
    assert stations(alpha_client, q="CP- sud") == ["CP-SUD"]  # every word
    assert stations(alpha_client, q="CP-BETA") == []  # another company's
    assert stations(alpha_client, status="connected") == ["CP-SUD"]
    assert stations(alpha_client, sort="-station") == ["CP-SUD", "CP-NORD", "CP-ALPHA"]
    # Never heard from last: no heartbeat sorts after any.
    assert stations(alpha_client, sort="-heartbeat")[0] == "CP-SUD"
    assert stations(alpha_client, sort="heartbeat")[0] == "CP-SUD"


def test_bad_filters_are_ignored_never_an_error(alpha_client, alpha):
    assert stations(alpha_client, status="exploded", sort="pk; drop", page="1") == ["CP-ALPHA"]
    response = alpha_client.get(
        reverse("portal:session-list"), {"start": "yesterday", "end": "0001-01-01", "station": "x"}
    )
    assert response.status_code == 200
    assert alpha_client.get(reverse("portal:refusal-list"), {"reason": "?"}).status_code == 200
    long = alpha_client.get(reverse("portal:vehicle-list"), {"q": "x" * 5000})
    assert long.status_code == 200


def test_the_company_filter_is_for_superusers_only(alpha_client, admin_client, alpha, beta):
    staff_form = alpha_client.get(reverse("portal:station-list")).context["filter_form"]
    assert "company" not in staff_form.fields
    assert stations(admin_client, company=beta.company.pk) == ["CP-BETA"]
    assert set(stations(admin_client)) == {"CP-ALPHA", "CP-BETA"}


def test_vehicles_searched_filtered_and_sorted(alpha_client, alpha):
    VehicleFactory(company=alpha.company, license_plate="GH-456-IJ", make="Renault", active=False)
    VehicleFactory(company=alpha.company, license_plate="AB-123-CD", make="Peugeot")

    def plates(**query):
        return [
            v.license_plate
            for v in listed(alpha_client, "portal:vehicle-list", "vehicle_list", **query)
        ]

    assert plates() == ["AB-123-CD", "ALPHA-1", "GH-456-IJ"]
    assert plates(q="peugeot") == ["AB-123-CD"]
    assert plates(active_only="no") == ["GH-456-IJ"]
    assert plates(active_only="yes", sort="-vehicle") == ["ALPHA-1", "AB-123-CD"]


def test_sessions_filtered_by_station_state_and_dates(alpha_client, alpha, beta):
    other_station = StationFactory(company=alpha.company, charge_point_id="CP-ANNEXE")
    old = charge(alpha, energy_wh=5_000, started_at=timezone.now() - timedelta(days=10))
    today = charge(alpha, energy_wh=9_000)
    other_badge = BadgeFactory(
        company=alpha.company, vehicle=VehicleFactory(company=alpha.company, license_plate="ZZ-9")
    )
    alpha.station, saved = other_station, alpha.station
    charging = charge(alpha, energy_wh=0, badge=other_badge, stop=False)
    alpha.station = saved
    charge(beta, energy_wh=1_000)

    def sessions(**query):
        return listed(alpha_client, "portal:session-list", "session_list", **query)

    assert sessions() == [charging, today, old]  # newest first; not beta's
    assert sessions(station=other_station.pk) == [charging]
    assert sessions(state="charging") == [charging]
    assert sessions(state="stopped", sort="energy") == [old, today]
    assert sessions(q="zz-9") == [charging]
    week_ago = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert sessions(start=week_ago) == [charging, today]
    assert sessions(end=week_ago) == [old]


def test_refusals_filtered_by_reason_and_station(alpha_client, alpha):
    annexe = StationFactory(company=alpha.company, charge_point_id="CP-ANNEXE")
    authorization_request(id_tag="VID:A014310E0ABC", station=alpha.station)
    authorization_request(id_tag="VID:A014310E0DEF", station=annexe)

    def tags(**query):
        return [
            r.id_tag for r in listed(alpha_client, "portal:refusal-list", "refusal_list", **query)
        ]

    assert tags() == ["VID:A014310E0DEF", "VID:A014310E0ABC"]
    assert tags(station=annexe.pk) == ["VID:A014310E0DEF"]
    assert tags(reason="unknown_badge", sort="time") == ["VID:A014310E0ABC", "VID:A014310E0DEF"]
    assert tags(reason="badge_expired") == []
    assert tags(q="0abc") == ["VID:A014310E0ABC"]
    assert VehicleSighting.objects.count() == 2


def links(page: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="(\?[^"]*)"', page)]


def test_search_filters_and_sort_are_kept_across_pages_and_sorts(alpha_client, alpha):
    for number in range(PAGE_SIZE + 5):
        StationFactory(company=alpha.company, charge_point_id=f"CP-Z{number:03}")
    query = {"q": "CP-Z", "sort": "-station"}

    first = alpha_client.get(reverse("portal:station-list"), query).content.decode()
    next_page = [link for link in links(first) if "page=2" in link]

    assert next_page, first
    assert "q=CP-Z" in next_page[0] and "sort=-station" in next_page[0]
    second = alpha_client.get(reverse("portal:station-list") + next_page[0])
    assert next(s.charge_point_id for s in second.context["station_list"]) == "CP-Z004"
    # A column header keeps the search, sorts the other way, and goes back to the first page.
    header = [link for link in links(second.content.decode()) if "sort=station" in link]
    assert header and "q=CP-Z" in header[0] and "page=" not in header[0]
    assert 'aria-sort="descending"' in second.content.decode()
    # The filter form keeps the sort.
    assert '<input type="hidden" name="sort" value="-station">' in first


def test_in_french_with_an_empty_result_saying_so(alpha_client, alpha):
    for name in [
        "portal:station-list",
        "portal:vehicle-list",
        "portal:session-list",
        "portal:refusal-list",
        "portal:site-list",
    ]:
        page = alpha_client.get(
            reverse(name), {"q": "nothing-like-this"}, HTTP_ACCEPT_LANGUAGE="fr"
        ).content.decode()
        assert "Rechercher" in page, name
        assert "Filtrer" in page, name
        assert "Rien ne correspond à cette recherche ni à ces filtres." in page, name
    charge(alpha, energy_wh=0, stop=False)
    sessions = alpha_client.get(reverse("portal:session-list"), HTTP_ACCEPT_LANGUAGE="fr")
    page = sessions.content.decode()
    for label in ["Sessions de charge", "Début", "Fin", "Démarrées à partir du", "En charge"]:
        assert label in page, label


def test_the_new_lists_need_their_permission(client, alpha_staff):
    alpha_staff.user_permissions.clear()
    client.force_login(alpha_staff)
    assert client.get(reverse("portal:session-list")).status_code == 403
    assert client.get(reverse("portal:refusal-list")).status_code == 403


def test_superusers_see_every_company(admin_client, alpha, beta):
    charge(alpha, energy_wh=1_000)
    charge(beta, energy_wh=2_000)
    assert len(listed(admin_client, "portal:session-list", "session_list")) == 2


def test_the_station_page_links_to_its_refusals(alpha_client, alpha):
    authorization_request(id_tag="VID:A014310E0ABC", station=alpha.station)
    page = alpha_client.get(
        reverse("portal:station-detail", args=[alpha.station.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()

    url = f"{reverse('portal:refusal-list')}?station={alpha.station.pk}"
    assert f'<a href="{url}">Tous les refus à cette borne</a>' in page

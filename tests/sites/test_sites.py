"""Sites through the REST API, the admin and the portal: company scoping, validation, writes
through the service (a limit change recomputes the shares), pages in English and French."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from ocpp_gateway.operations.smart_charging import site_rebalance
from stations import sites
from stations.models import LoadBalancingDecision, Site, Station
from stations.services import session_start
from tests.factories import SiteFactory, StationFactory
from tests.portal.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha_site(alpha):
    site = SiteFactory(company=alpha.company, name="Rungis", grid_limit_kw=100)
    Station.objects.filter(pk=alpha.station.pk).update(site=site, max_power_kw=50)
    return site


@pytest.fixture
def beta_site(beta):
    return SiteFactory(company=beta.company, name="Lyon", grid_limit_kw=60)


@pytest.fixture
def alpha_api(alpha_staff) -> APIClient:
    client = APIClient()
    client.force_authenticate(alpha_staff)
    return client


def test_api_lists_and_reads_only_the_company_sites(alpha_api, alpha_site, beta_site):
    listed = alpha_api.get("/api/v1/sites/").json()["results"]
    assert [site["id"] for site in listed] == [alpha_site.pk]
    assert alpha_api.get(f"/api/v1/sites/{beta_site.pk}/").status_code == 404
    assert listed[0]["stations"] == list(alpha_site.stations.values_list("pk", flat=True))


def test_api_creates_a_site_for_the_own_company_only(alpha, beta, alpha_api):
    created = alpha_api.post(
        "/api/v1/sites/",
        {"company": alpha.company.pk, "name": "Orly", "grid_limit_kw": "250.0"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert Site.objects.get(name="Orly").grid_limit_kw == Decimal("250.0")
    refused = alpha_api.post(
        "/api/v1/sites/", {"company": beta.company.pk, "name": "Other"}, format="json"
    )
    assert refused.status_code == 400 and "company" in refused.json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"grid_limit_kw": "-5"}, "grid_limit_kw"),
        ({"grid_limit_kw": "lots"}, "grid_limit_kw"),
    ],
)
def test_api_bad_site_input_is_a_400(alpha, alpha_api, body, field):
    response = alpha_api.post(
        "/api/v1/sites/", {"company": alpha.company.pk, "name": "X", **body}, format="json"
    )
    assert response.status_code == 400 and field in response.json()


def test_a_station_cannot_join_another_company_site(alpha, alpha_api, beta_site, alpha_site):
    other = SiteFactory(company=StationFactory().company)
    for site in (beta_site, other):
        response = alpha_api.patch(
            f"/api/v1/stations/{alpha.station.pk}/", {"site": site.pk}, format="json"
        )
        assert response.status_code == 400 and "site" in response.json()
    joined = alpha_api.patch(
        f"/api/v1/stations/{alpha.station.pk}/", {"site": alpha_site.pk}, format="json"
    )
    assert joined.status_code == 200 and joined.json()["site"] == alpha_site.pk


def test_changing_the_limit_records_a_new_decision(
    alpha, alpha_api, alpha_site, django_capture_on_commit_callbacks
):
    session_start(
        station=alpha.station,
        connector_id=1,
        id_tag=alpha.badge.rfid,
        meter_start=0,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_api.patch(
            f"/api/v1/sites/{alpha_site.pk}/", {"grid_limit_kw": "30"}, format="json"
        )
    assert response.status_code == 200, response.content
    decision = LoadBalancingDecision.objects.get(site=alpha_site)
    assert decision.limit_w == Decimal(30_000)
    # The station is not connected: counted at its maximum, nothing can be sent to it.
    assert decision.allocations[0]["limit_w"] == "50000.0"
    assert decision.allocations[0]["reason"] == "rejects_profiles"
    decisions = alpha_api.get(f"/api/v1/sites/{alpha_site.pk}/decisions/").json()
    assert decisions[0]["trigger"] == "The site changed"
    power = alpha_api.get(f"/api/v1/sites/{alpha_site.pk}/power/").json()
    assert power["limit_w"] == "30000.0" and power["connectors"][0]["connector"] == 1


def test_admin_adds_a_site_and_filters_stations_by_site(alpha, alpha_staff, alpha_site, client):
    client.force_login(alpha_staff)
    response = client.post(
        "/admin/stations/site/add/",
        {
            "company": alpha.company.pk,
            "name": "Massy",
            "time_zone": "Europe/Paris",
            "grid_limit_kw": "80",
            "address": "",
            "amperes_per_phase": "",
            "decisions-TOTAL_FORMS": "0",
            "decisions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Site.objects.get(name="Massy").company == alpha.company
    listed = client.get(f"/admin/stations/station/?site__id__exact={alpha_site.pk}")
    assert alpha.station.charge_point_id in listed.content.decode()
    with translation.override("fr"):
        page = client.get("/admin/stations/site/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Page du site" in page.content.decode()


def test_portal_site_page_shows_power_and_decisions_in_english_and_french(
    alpha, alpha_client, alpha_site, beta_site
):
    session_start(
        station=alpha.station,
        connector_id=1,
        id_tag=alpha.badge.rfid,
        meter_start=0,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    site_rebalance(site_id=alpha_site.pk, trigger="test")
    page = alpha_client.get(f"/sites/{alpha_site.pk}/").content.decode()
    assert "Load balancing decisions" in page and "100000 W" in page
    assert "rejects profiles: counted at its maximum" in page
    french = alpha_client.get(f"/sites/{alpha_site.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Décisions de répartition" in french.content.decode()
    assert alpha_client.get(f"/sites/{beta_site.pk}/").status_code == 404
    assert "Lyon" not in alpha_client.get("/sites/").content.decode()


def test_portal_site_page_needs_the_permission(alpha, alpha_site, client):
    user = make_staff("noperm", alpha.company)
    user.user_permissions.clear()
    client.force_login(user)
    assert client.get(f"/sites/{alpha_site.pk}/").status_code == 403


def test_fallback_share_counts_every_connector_of_the_site(alpha_site, alpha):
    StationFactory(company=alpha.company, site=alpha_site)
    assert sites.site_connector_count(site=alpha_site) == 2

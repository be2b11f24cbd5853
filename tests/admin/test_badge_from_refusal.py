""" "Create badge" from a refused ``VID:``: company and provider pre-filled from the refusing
station, then from the chosen vehicle (no "This field is required"); at a partner's station
where the badge would still be refused (``not_permitted_at_station``), the form says so and
adds the station to one of the company's groups, through the fleet services."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from badges.authorization import Reason
from badges.models import Badge
from fleet.models import StaffMembership
from stations.enrolment import authorization_request
from tests.admin.test_badge_admin import badge_form
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

VID = "VID:A014310E0ABC"


@pytest.fixture
def partner():
    """Another company's station, where the vehicle was refused."""
    return StationFactory(
        company=CompanyFactory(name="Dépôt Partenaire"), charge_point_id="CP-PART"
    )


def link_on_dashboard(client, label: str) -> str:
    page = client.get(reverse("portal:dashboard")).content.decode()
    match = re.search(rf'<a href="([^"]+)">{label}</a>', page)
    assert match, page
    return unescape(match.group(1))


def form_of(response):
    assert response.status_code == 200, response
    return response.context["adminform"].form


def test_the_dashboard_link_pre_fills_company_and_provider_from_the_refusing_station(
    english_client, partner
):
    authorization_request(id_tag=VID, station=partner)

    url = link_on_dashboard(english_client, "Create badge")

    assert parse_qs(urlsplit(url).query)["refused_at"] == [str(partner.pk)]
    form = form_of(english_client.get(url))
    assert form.initial["company"] == form.initial["provider"] == partner.company_id
    assert form.initial["rfid"] == VID
    assert "refused_at" not in form.initial
    # Its own company's station: nothing to warn about.
    assert form.station_warning == ""


def test_choosing_the_vehicle_gives_its_company_and_provider(english_client, partner, vehicle):
    authorization_request(id_tag=VID, station=partner)
    url = link_on_dashboard(english_client, "Create badge")
    initial = form_of(english_client.get(url)).initial

    # Posted as the form came, pre-filled with the station's owner, plus the vehicle.
    response = english_client.post(
        url,
        badge_form(
            rfid=VID,
            company=initial["company"],
            provider=initial["provider"],
            vehicle=vehicle.pk,
        ),
    )

    badge = Badge.objects.get()
    assert (badge.company, badge.provider, badge.vehicle) == (
        vehicle.company,
        vehicle.company,
        vehicle,
    )
    # Still refused at the partner's station: its page says why, with the fix.
    change = reverse("admin:badges_badge_change", args=[badge.pk])
    assert response.status_code == 302
    assert response.url == f"{change}?refused_at={partner.pk}"
    page = english_client.get(response.url)
    assert "CP-PART belongs to Dépôt Partenaire" in page.content.decode()


def test_a_vehicle_alone_is_enough_no_company_required(english_client, vehicle):
    response = english_client.post(
        reverse("admin:badges_badge_add"), badge_form(rfid=VID, vehicle=vehicle.pk)
    )

    assert response.status_code == 302, form_of(response).errors
    badge = Badge.objects.get()
    assert (badge.company, badge.provider) == (vehicle.company, vehicle.company)


def test_a_provider_chosen_by_hand_stays(english_client, vehicle):
    provider = CompanyFactory(name="Carte Grise SA")
    english_client.post(
        reverse("admin:badges_badge_add"),
        badge_form(rfid=VID, vehicle=vehicle.pk, provider=provider.pk),
    )

    assert Badge.objects.get().provider == provider


def test_neither_company_nor_vehicle_says_what_to_choose(french_client):
    response = french_client.post(
        reverse("admin:badges_badge_add"), badge_form(rfid="04AABBCCDD", mode="company")
    )

    errors = form_of(response).errors["company"]
    assert errors == ["Choisissez l’entreprise, ou un véhicule : le badge prend alors la sienne."]
    assert not Badge.objects.exists()


@pytest.fixture
def refused_badge(partner, vehicle):
    """The vehicle's badge, refused at the partner's station: not permitted there."""
    badge = BadgeFactory(company=vehicle.company, vehicle=vehicle, rfid=VID)
    decision = authorization_request(id_tag=VID, station=partner)
    assert decision.reason == Reason.NOT_PERMITTED_AT_STATION
    return badge


def test_the_refused_badge_s_page_says_why_and_adds_the_station_to_a_group(
    english_client, partner, vehicle, refused_badge
):
    group = AuthorizationGroupFactory(company=vehicle.company, name="Partner depots")
    AuthorizationGroupFactory(company=partner.company, name="Not theirs")

    url = link_on_dashboard(english_client, "Open badge")
    form = form_of(english_client.get(url))

    assert url == reverse("admin:badges_badge_change", args=[refused_badge.pk]) + (
        f"?refused_at={partner.pk}"
    )
    page = english_client.get(url).content.decode()
    assert 'data-testid="station-not-permitted"' in page
    assert (
        "CP-PART belongs to Dépôt Partenaire: a badge of Transports Martin is refused there"
        in unescape(page)
    )
    assert list(form.fields["add_station_to_group"].queryset) == [group]

    data = badge_form(
        rfid=VID,
        company=vehicle.company.pk,
        vehicle=vehicle.pk,
        description=refused_badge.description,
        add_station_to_group=group.pk,
    )
    response = english_client.post(url, data)

    assert response.status_code == 302, form_of(response).errors
    assert list(group.stations.all()) == [partner]
    assert list(refused_badge.groups.all()) == [group]
    # The station accepts the vehicle now.
    assert authorization_request(id_tag=VID, station=partner).accepted


def test_a_group_of_another_company_is_refused(english_client, partner, vehicle, refused_badge):
    theirs = AuthorizationGroupFactory(company=partner.company, name="Not theirs")
    url = f"{reverse('admin:badges_badge_change', args=[refused_badge.pk])}?refused_at={partner.pk}"

    response = english_client.post(
        url,
        badge_form(
            rfid=VID,
            company=vehicle.company.pk,
            vehicle=vehicle.pk,
            add_station_to_group=theirs.pk,
        ),
    )

    assert "add_station_to_group" in form_of(response).errors
    assert not theirs.stations.exists()


def test_in_french_without_a_group_it_says_to_create_one(french_client, partner, refused_badge):
    url = f"{reverse('admin:badges_badge_change', args=[refused_badge.pk])}?refused_at={partner.pk}"

    page = unescape(french_client.get(url).content.decode())

    assert "CP-PART appartient à Dépôt Partenaire" in page
    assert "Transports Martin n’a encore aucun groupe d’autorisation" in page
    assert "Ajouter la borne au groupe" in page


def test_staff_who_cannot_choose_the_partner_station_get_no_offer(
    client, django_user_model, company, partner
):
    # A staff user of the vehicle's company does not see the partner's station: no offer, and
    # the page works as without the parameter.
    staff = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    StaffMembership.objects.create(user=staff, company=company)
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["badges", "fleet"])
    )
    client.force_login(staff)
    badge = BadgeFactory(company=company, vehicle=VehicleFactory(company=company), rfid=VID)
    url = f"{reverse('admin:badges_badge_change', args=[badge.pk])}?refused_at={partner.pk}"

    response = client.get(url)

    assert response.status_code == 200
    assert "add_station_to_group" not in form_of(response).fields
    assert 'data-testid="station-not-permitted"' not in response.content.decode()


VEHICLE_COMPANY_URL = reverse("admin:badges_badge_vehicle_company")


def test_the_form_s_script_learns_the_vehicle_s_company(english_client, vehicle):
    page = english_client.get(reverse("admin:badges_badge_add")).content.decode()
    assert f'data-url="{VEHICLE_COMPANY_URL}"' in page
    assert "badges/badge_form.js" in page

    answer = english_client.get(VEHICLE_COMPANY_URL, {"vehicle": vehicle.pk})

    assert answer.json() == {"company": {"id": vehicle.company_id, "text": "Transports Martin"}}
    assert english_client.get(VEHICLE_COMPANY_URL, {"vehicle": "x"}).status_code == 404
    assert english_client.get(VEHICLE_COMPANY_URL).status_code == 404


def test_another_company_s_vehicle_is_not_found(client, django_user_model, company):
    staff = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    StaffMembership.objects.create(user=staff, company=company)
    staff.user_permissions.set(Permission.objects.filter(codename="add_badge"))
    client.force_login(staff)
    theirs = VehicleFactory(company=CompanyFactory(name="Taxis Bleus"))
    mine = VehicleFactory(company=company)

    assert client.get(VEHICLE_COMPANY_URL, {"vehicle": theirs.pk}).status_code == 404
    assert client.get(VEHICLE_COMPANY_URL, {"vehicle": mine.pk}).status_code == 200
    staff.user_permissions.clear()
    assert client.get(VEHICLE_COMPANY_URL, {"vehicle": mine.pk}).status_code == 403

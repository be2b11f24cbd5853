"""Each company's data stays its own when companies Alpha and Beta share vehicles' MACs and a
partner station (Alpha's, where Beta's badges may charge through Beta's authorization group):
the unknown-vehicle inbox and the security events, through the admin, the API, the portal and
the e-mails."""

import html

import pytest
from django.core import mail
from django.forms.models import model_to_dict
from django.urls import reverse

from badges.authorization import AuthorizationStatus
from badges.models import InboxStatus, UnknownVehicle
from stations.enrolment import authorization_request, pairing_open
from stations.models import SecurityEvent, SecurityEventKind
from supervision.outbox import emails_send
from tests.tenancy.conftest import Tenant, admin_client_of, api_client

pytestmark = pytest.mark.django_db

SHARED_VID = "VID:C0FFEE000001"
SHARED_MAC = "C0FFEE000001"
INBOX_URL = reverse("admin:badges_unknownvehicle_changelist")
EVENTS_URL = reverse("admin:stations_securityevent_changelist")


def inbox_api(pk=None, action: str = "") -> str:
    return f"/api/v1/unknown-vehicles/{'' if pk is None else f'{pk}/'}{action}"


def events_api(pk=None) -> str:
    return f"/api/v1/security-events/{'' if pk is None else f'{pk}/'}"


def admin_page(model: str, pk) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


def row(entry: UnknownVehicle) -> dict:
    """Every column of the entry as the database has it now."""
    return model_to_dict(UnknownVehicle.objects.get(pk=entry.pk))


@pytest.fixture
def partners(tenants) -> tuple[Tenant, Tenant]:
    """Alpha's station is Beta's partner station; no station is armed for pairing."""
    alpha, beta = tenants
    beta.group.stations.add(alpha.station)
    alpha.pairing.delete()
    beta.pairing.delete()
    return alpha, beta


@pytest.fixture
def shared_mac(partners) -> dict[str, UnknownVehicle]:
    """One unknown MAC presented twice at Alpha's station and once at Beta's."""
    alpha, beta = partners
    for station in (alpha.station, alpha.station, beta.station):
        authorization_request(id_tag=SHARED_VID, station=station, connector_id=1)
    return {
        "alpha": UnknownVehicle.objects.get(company=alpha.company, mac=SHARED_MAC),
        "beta": UnknownVehicle.objects.get(company=beta.company, mac=SHARED_MAC),
    }


# --- The inbox ------------------------------------------------------------------------------


def test_each_company_reads_its_own_entry_of_a_shared_mac_with_its_own_counters(
    partners, shared_mac, alpha_api
):
    alpha, beta = partners

    listed = alpha_api.get(inbox_api()).json()["results"]
    own = alpha_api.get(inbox_api(shared_mac["alpha"].pk)).json()
    beta_own = api_client(beta.staff).get(inbox_api(shared_mac["beta"].pk)).json()

    assert {entry["id"] for entry in listed} == {alpha.unknown_vehicle.pk, shared_mac["alpha"].pk}
    assert (own["company"], own["attempts"], own["stations"]) == (
        alpha.company.pk,
        2,
        [alpha.station.charge_point_id],
    )
    assert (beta_own["attempts"], beta_own["stations"]) == (1, [beta.station.charge_point_id])
    assert alpha_api.get(inbox_api(shared_mac["beta"].pk)).status_code == 404


def test_a_company_dismissal_leaves_the_other_company_entry_as_it_was(
    partners, shared_mac, alpha_api
):
    alpha, beta = partners
    alpha_before = row(shared_mac["alpha"])

    dismissed = api_client(beta.staff).post(
        inbox_api(shared_mac["beta"].pk, "dismiss/"), {"reason": "Beta's visitor"}, format="json"
    )

    assert dismissed.status_code == 200, dismissed.content
    assert row(shared_mac["alpha"]) == alpha_before
    seen_by_alpha = alpha_api.get(inbox_api(shared_mac["alpha"].pk))
    page = admin_client_of(alpha.staff).get(admin_page("badges_unknownvehicle", alpha_before["id"]))
    assert (seen_by_alpha.json()["status"], seen_by_alpha.json()["dismissed_reason"]) == (
        "open",
        "",
    )
    for content in (seen_by_alpha.content.decode(), page.content.decode()):
        for beta_fact in ("Beta's visitor", beta.staff.username, beta.station.charge_point_id):
            assert beta_fact not in html.unescape(content), beta_fact


def test_a_company_enrolment_marks_enrolled_only_its_own_entry(partners, shared_mac, alpha_api):
    alpha, _beta = partners
    beta_before = row(shared_mac["beta"])

    enrolled = alpha_api.post(
        inbox_api(shared_mac["alpha"].pk, "enrol/"), {"vehicle": alpha.vehicle.pk}, format="json"
    )

    assert enrolled.status_code == 201, enrolled.content
    assert row(shared_mac["alpha"])["status"] == InboxStatus.ENROLLED
    assert row(shared_mac["beta"]) == beta_before


def test_a_badge_made_by_hand_resolves_only_its_company_entry(partners, shared_mac):
    _alpha, beta = partners
    alpha_before = row(shared_mac["alpha"])

    created = api_client(beta.staff).post(
        "/api/v1/badges/",
        {
            "rfid": SHARED_VID,
            "company": beta.company.pk,
            "vehicle": beta.vehicle.pk,
            "mode": "vehicle",
        },
        format="json",
    )

    assert created.status_code == 201, created.content
    assert row(shared_mac["beta"])["status"] == InboxStatus.ENROLLED
    assert row(shared_mac["alpha"]) == alpha_before


def test_another_company_entry_cannot_be_read_enrolled_nor_dismissed(
    partners, shared_mac, alpha_api
):
    alpha, _beta = partners
    beta_entry = shared_mac["beta"]
    before = row(beta_entry)
    admin = admin_client_of(alpha.staff)

    responses = [
        alpha_api.post(inbox_api(beta_entry.pk, "enrol/"), {"vehicle": alpha.vehicle.pk}),
        alpha_api.post(inbox_api(beta_entry.pk, "dismiss/"), {"reason": "visitor"}),
    ]
    page = admin.get(admin_page("badges_unknownvehicle", beta_entry.pk))
    for action, data in [
        ("dismiss", {"reason": "visitor"}),
        ("enrol_into_vehicle", {"vehicle": alpha.vehicle.pk}),
    ]:
        admin.post(
            INBOX_URL,
            {"action": action, "_selected_action": [beta_entry.pk], "confirm": "yes", **data},
        )

    assert [response.status_code for response in responses] == [404, 404]
    assert (page.status_code, page.url) == (302, reverse("admin:index"))
    assert row(beta_entry) == before


def test_an_entry_cannot_be_enrolled_into_another_company_vehicle_even_by_a_superuser(
    partners, shared_mac, admin_user
):
    _alpha, beta = partners
    before = row(shared_mac["alpha"])

    response = api_client(admin_user).post(
        inbox_api(shared_mac["alpha"].pk, "enrol/"), {"vehicle": beta.vehicle.pk}, format="json"
    )

    assert response.status_code == 400
    assert "vehicle" in response.json()
    assert row(shared_mac["alpha"]) == before


def test_the_admin_enrol_form_offers_a_superuser_only_the_entry_company_vehicles(
    partners, shared_mac, admin_user
):
    alpha, beta = partners
    admin = admin_client_of(admin_user)
    action = {"action": "enrol_into_vehicle", "_selected_action": [shared_mac["alpha"].pk]}

    page = admin.post(INBOX_URL, action)
    refused = admin.post(INBOX_URL, {**action, "confirm": "yes", "vehicle": beta.vehicle.pk})

    assert list(page.context["form"].fields["vehicle"].queryset) == [alpha.vehicle]
    assert "vehicle" in refused.context["form"].errors
    assert row(shared_mac["alpha"])["status"] == InboxStatus.OPEN


def test_a_superuser_sees_every_company_entry_labelled_and_filtered_by_company(
    partners, shared_mac, admin_user
):
    alpha, beta = partners
    admin = admin_client_of(admin_user)

    everything = admin.get(INBOX_URL, {"q": SHARED_MAC})
    only_beta = admin.get(INBOX_URL, {"q": SHARED_MAC, "company__id__exact": beta.company.pk})

    assert set(everything.context["cl"].result_list) == set(shared_mac.values())
    assert list(only_beta.context["cl"].result_list) == [shared_mac["beta"]]
    content = html.unescape(everything.content.decode())
    assert alpha.company.name in content and beta.company.name in content
    assert "By company" in content


def test_the_inbox_with_its_company_column_speaks_french(partners, shared_mac, admin_user):
    admin = admin_client_of(admin_user)

    content = html.unescape(
        admin.get(INBOX_URL, {"q": SHARED_MAC}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    entry = html.unescape(
        admin.get(
            admin_page("badges_unknownvehicle", shared_mac["alpha"].pk), HTTP_ACCEPT_LANGUAGE="fr"
        ).content.decode()
    )

    assert "Par entreprise" in content
    assert ">Entreprise<" in content.replace("</a>", "<").replace('">', ">")
    assert "L’entreprise dont les bornes ont vu le véhicule." in entry


def test_the_portal_dashboard_counts_only_the_company_own_attempts(
    partners, shared_mac, alpha_admin
):
    alpha, beta = partners
    api_client(beta.staff).post(
        inbox_api(shared_mac["beta"].pk, "dismiss/"), {"reason": "visitor"}, format="json"
    )

    english = alpha_admin.get(reverse("portal:dashboard"))
    french = alpha_admin.get(reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE="fr")

    unknown = english.context["dashboard"].unknown_vehicles
    assert {entry.pk for entry in unknown} == {alpha.unknown_vehicle.pk, shared_mac["alpha"].pk}
    assert "2 attempts" in english.content.decode()
    assert "2 tentatives" in french.content.decode()
    assert "3 attempts" not in english.content.decode()


def test_a_company_enrolment_through_the_admin_in_french_resolves_only_its_entry(
    partners, shared_mac, alpha_admin
):
    alpha, _beta = partners
    beta_before = row(shared_mac["beta"])

    response = alpha_admin.post(
        INBOX_URL,
        {
            "action": "enrol_into_vehicle",
            "_selected_action": [shared_mac["alpha"].pk],
            "confirm": "yes",
            "vehicle": alpha.vehicle.pk,
        },
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )

    content = html.unescape(response.content.decode())
    assert f"{SHARED_VID} enrôlé pour {alpha.vehicle.license_plate}" in content
    assert row(shared_mac["alpha"])["status"] == InboxStatus.ENROLLED
    assert row(shared_mac["beta"]) == beta_before


# --- Security events ------------------------------------------------------------------------


@pytest.fixture
def concurrent_at_partner_station(partners, django_capture_on_commit_callbacks, settings):
    """Beta's vehicle, charging at Beta's station, is presented at Alpha's partner station."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alpha, beta = partners
    with django_capture_on_commit_callbacks(execute=True):
        decision = authorization_request(id_tag=beta.badge.rfid, station=alpha.station)
    assert decision.status == AuthorizationStatus.CONCURRENT_TX
    emails_send()  # the job runner's work: the mail was queued with the event
    return SecurityEvent.objects.get(kind=SecurityEventKind.CONCURRENT_VID)


def test_a_concurrent_vid_event_counts_the_other_company_station_for_the_station_company(
    partners, concurrent_at_partner_station, alpha_api
):
    alpha, beta = partners
    event = concurrent_at_partner_station

    response = alpha_api.get(events_api(event.pk))
    page = admin_client_of(alpha.staff).get(admin_page("stations_securityevent", event.pk))
    [message] = mail.outbox

    assert event.station == alpha.station
    assert response.json()["details"] == {
        "charging_at": [],
        "charging_at_other_companies_stations": 1,
        "connector_id": None,
    }
    assert "other_companies_details" not in response.json()
    assert message.to == [alpha.company.contact_email]
    for content in (response.content.decode(), page.content.decode(), message.body):
        assert beta.station.charge_point_id not in content
    assert "other companies" not in page.content.decode().lower()


def test_a_superuser_reads_which_other_company_station_it_was(
    partners, concurrent_at_partner_station, admin_user
):
    _alpha, beta = partners
    event = concurrent_at_partner_station

    body = api_client(admin_user).get(events_api(event.pk)).json()
    page = admin_client_of(admin_user).get(
        admin_page("stations_securityevent", event.pk), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert body["other_companies_details"] == {"charging_at": [beta.station.charge_point_id]}
    content = html.unescape(page.content.decode())
    assert "Détails des autres entreprises" in content
    assert beta.station.charge_point_id in content


def test_the_other_company_does_not_see_the_event_at_the_partner_station(
    partners, concurrent_at_partner_station
):
    _alpha, beta = partners
    event = concurrent_at_partner_station

    assert api_client(beta.staff).get(events_api(event.pk)).status_code == 404
    page = admin_client_of(beta.staff).get(admin_page("stations_securityevent", event.pk))
    assert page.status_code == 302


def test_mac_probing_across_companies_is_for_superusers_only_and_mailed_to_nobody(
    partners, settings, django_capture_on_commit_callbacks, admin_user
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AUTOCHARGE_PROBING_COMPANIES = 2
    alpha, beta = partners
    with django_capture_on_commit_callbacks(execute=True):
        for station in (alpha.station, beta.station):
            authorization_request(id_tag=SHARED_VID, station=station, connector_id=1)

    probing = SecurityEvent.objects.get(kind=SecurityEventKind.MAC_PROBING)
    for tenant in partners:
        listed = api_client(tenant.staff).get(events_api()).json()["results"]
        changelist = admin_client_of(tenant.staff).get(EVENTS_URL)
        dashboard = admin_client_of(tenant.staff).get(reverse("portal:dashboard"))
        assert probing.pk not in {event["id"] for event in listed}
        assert probing not in changelist.context["cl"].result_list
        assert probing not in dashboard.context["dashboard"].security_events
    assert emails_send() == 0 and mail.outbox == []  # nothing even queued
    superuser = api_client(admin_user).get(events_api(probing.pk)).json()
    assert superuser["details"]["stations"] == sorted(
        [alpha.station.charge_point_id, beta.station.charge_point_id]
    )


def test_a_vehicle_paired_at_a_partner_station_is_not_told_to_the_station_company(
    partners, alpha_api
):
    alpha, beta = partners
    pairing_open(station=alpha.station, vehicle=beta.vehicle, opened_by=beta.staff)

    decision = authorization_request(id_tag=SHARED_VID, station=alpha.station, connector_id=1)

    assert decision.accepted
    changed = SecurityEvent.objects.get(kind=SecurityEventKind.MAC_CHANGED, id_tag=SHARED_VID)
    assert (changed.station, changed.details["paired_at"]) == (None, alpha.station.charge_point_id)
    listed = alpha_api.get(events_api()).content.decode()
    assert beta.vehicle.license_plate not in listed
    assert alpha_api.get(events_api(changed.pk)).status_code == 404


def test_a_pairing_window_at_a_partner_station_is_its_vehicles_companys(partners, alpha_api):
    """Beta pairs its vehicle at Alpha's partner station: the window, and the plate it names,
    are Beta's; Alpha, the station's owner, finds neither in the API nor in the admin."""
    alpha, beta = partners
    window = pairing_open(station=alpha.station, vehicle=beta.vehicle, opened_by=beta.staff)

    listed = alpha_api.get("/api/v1/pairings/").json()["results"]
    detail = alpha_api.get(f"/api/v1/pairings/{window.pk}/")
    changelist = admin_client_of(alpha.staff).get(reverse("admin:badges_pairingwindow_changelist"))
    station_page = admin_client_of(alpha.staff).get(
        reverse("admin:stations_station_change", args=[alpha.station.pk]),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    beta_listed = api_client(beta.staff).get("/api/v1/pairings/").json()["results"]

    assert (listed, detail.status_code) == ([], 404)
    assert window not in changelist.context["cl"].result_list
    assert beta.vehicle.license_plate not in changelist.content.decode()
    assert beta.vehicle.license_plate not in station_page.content.decode()
    assert "Armé par une autre entreprise jusqu’à" in station_page.content.decode()
    assert [row["id"] for row in beta_listed] == [window.pk]

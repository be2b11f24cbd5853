"""The unknown-vehicle inbox in the admin (its list, filters, entry page, and the "Enrol into
vehicle…" and "Dismiss…" actions), and the badge form's shared-MAC confirmation."""

import html

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from badges.models import (
    Badge,
    EnrolledVia,
    InboxStatus,
    SharedMacModel,
    UnknownVehicle,
)
from badges.services import unknown_vehicle_dismiss
from ocpp_gateway.models import LogStatus
from stations.enrolment import authorization_request
from stations.models import SecurityEvent, SecurityEventKind
from tests.admin.conftest import authorize_log
from tests.factories import BadgeFactory, CompanyFactory, StationFactory, VehicleFactory

pytestmark = pytest.mark.django_db

INBOX_URL = reverse("admin:badges_unknownvehicle_changelist")
BADGE_ADD_URL = reverse("admin:badges_badge_add")


def refused(station, id_tag, *, connector_id=1):
    """A station presents ``id_tag`` and is refused, as the gateway records it: the log entry
    first, then the decision with its side effects (the inbox, the sightings)."""
    log = authorize_log(
        station=station,
        id_tag=id_tag,
        status=LogStatus.REJECTED,
        reason="unknown_badge",
        ocpp_status="Invalid",
    )
    authorization_request(
        id_tag=id_tag, station=station, connector_id=connector_id, log_entry_id=log.pk
    )
    return log


def entry_url(entry: UnknownVehicle) -> str:
    return reverse("admin:badges_unknownvehicle_change", args=[entry.pk])


def listed(client, **query) -> list:
    response = client.get(INBOX_URL, query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def inbox(station):
    """Three unknown vehicles: two seen at the depot, one at another company's station."""
    elsewhere = StationFactory(
        company=CompanyFactory(name="Taxis Bleus"), charge_point_id="CP-TAXI-9"
    )
    refused(station, "VID:A014310E004E", connector_id=1)
    refused(station, "VID:A014310E004E", connector_id=2)
    refused(station, "vid:02:aa:bb:cc:dd:ee", connector_id=1)
    refused(elsewhere, "VID:001A2B3C4D5E", connector_id=3)
    return {entry.mac: entry for entry in UnknownVehicle.objects.all()}


# --- The list ---------------------------------------------------------------------------------


def test_the_inbox_lists_unknown_vehicles_in_english(english_client, inbox):
    content = english_client.get(INBOX_URL).content.decode()

    for wording in [
        "Unknown vehicles",
        "VID:A014310E004E",
        "Vendor hint",
        "Unregistered OUI",
        "Ayecom Technology Co., Ltd.",
        "Locally administered (randomised) MAC",
        "Latest refusal reason",
        "Unknown badge",
        "By status",
        "By company",
        "Taxis Bleus",
        "Enrol into vehicle…",
        "Dismiss…",
    ]:
        assert wording in html.unescape(content), wording


def test_the_inbox_speaks_french_to_a_french_browser(french_client, inbox):
    content = html.unescape(french_client.get(INBOX_URL).content.decode())

    for wording in [
        "Véhicules inconnus",
        "OUI non enregistré",
        "Adresse MAC administrée localement (aléatoire)",
        "Dernier motif de refus",
        "Badge inconnu",
        "Par statut",
        "Par entreprise",
        "Associer à un véhicule…",
        "Écarter…",
    ]:
        assert wording in content, wording
    assert "Unregistered OUI" not in content
    assert "Enrol into vehicle" not in content


def test_the_inbox_shows_open_entries_latest_first_and_where_they_were_seen(english_client, inbox):
    response = english_client.get(INBOX_URL)

    assert list(response.context["cl"].result_list) == [
        inbox["001A2B3C4D5E"],
        inbox["02AABBCCDDEE"],
        inbox["A014310E004E"],
    ]
    content = response.content.decode()
    assert "CP-DEPOT-1 #1/2" in content
    assert "CP-TAXI-9 #3" in content


def test_enrolled_and_dismissed_entries_leave_the_default_list_but_stay_visible(
    english_client, inbox, vehicle, admin_user
):
    BadgeFactory(rfid="VID:A014310E004E", company=vehicle.company, vehicle=vehicle)
    UnknownVehicle.objects.filter(mac="A014310E004E").update(status=InboxStatus.ENROLLED)
    unknown_vehicle_dismiss(entry=inbox["02AABBCCDDEE"], reason="Visitor", dismissed_by=admin_user)

    assert listed(english_client) == [inbox["001A2B3C4D5E"]]
    assert listed(english_client, status="open") == [inbox["001A2B3C4D5E"]]
    assert listed(english_client, status="enrolled") == [inbox["A014310E004E"]]
    assert listed(english_client, status="dismissed") == [inbox["02AABBCCDDEE"]]
    assert set(listed(english_client, status="all")) == set(inbox.values())


def test_the_status_filter_marks_open_as_chosen_by_default(english_client, inbox):
    content = english_client.get(INBOX_URL).content.decode()

    assert '<li class="selected">\n    <a href="?status=open">Open</a></li>' in content


def test_the_inbox_filters_on_the_station_where_a_vehicle_was_seen(english_client, inbox, station):
    assert set(listed(english_client, station=station.pk)) == {
        inbox["A014310E004E"],
        inbox["02AABBCCDDEE"],
    }


def test_the_inbox_filters_on_the_company_whose_stations_saw_the_vehicle(english_client, inbox):
    taxis = CompanyFactory._meta.model.objects.get(name="Taxis Bleus")

    assert listed(english_client, company__id__exact=taxis.pk) == [inbox["001A2B3C4D5E"]]


def test_the_station_and_company_filters_combine_with_the_status(english_client, inbox, station):
    unknown_vehicle_dismiss(entry=inbox["02AABBCCDDEE"], reason="Visitor")

    assert listed(english_client, station=station.pk) == [inbox["A014310E004E"]]
    assert set(listed(english_client, station=station.pk, status="all")) == {
        inbox["A014310E004E"],
        inbox["02AABBCCDDEE"],
    }


# --- An entry's page --------------------------------------------------------------------------


def test_an_entry_shows_where_it_was_seen_with_links_to_the_log(english_client, inbox, station):
    entry = inbox["A014310E004E"]
    logs = entry.sightings.values_list("log_entry_id", flat=True)

    response = english_client.get(entry_url(entry))

    assert response.status_code == 200
    content = response.content.decode()
    assert "<li>Dépôt Nord (CP-DEPOT-1) – connector 1 – 1 attempt, last " in content
    assert "<li>Dépôt Nord (CP-DEPOT-1) – connector 2 – 1 attempt, last " in content
    assert len(logs) == 2
    for log_id in logs:
        log_url = reverse("admin:ocpp_gateway_ocppmessage_change", args=[log_id])
        assert f'<a href="{log_url}">OCPP log entry</a>' in content
    assert "Unregistered OUI" in content
    assert "Attempts" in content


def test_an_entry_says_when_its_mac_is_randomised_and_who_made_the_chip(english_client, inbox):
    local = english_client.get(entry_url(inbox["02AABBCCDDEE"])).content.decode()
    factory = english_client.get(entry_url(inbox["001A2B3C4D5E"])).content.decode()

    assert 'alt="True"' in local
    assert 'alt="False"' in factory
    assert "Ayecom Technology Co., Ltd." in factory


def test_nobody_adds_changes_or_deletes_an_entry_by_hand(english_client, inbox):
    entry = inbox["A014310E004E"]

    page = english_client.get(entry_url(entry)).content.decode()
    changed = english_client.post(entry_url(entry), {"status": "dismissed"})
    deleted = english_client.post(
        reverse("admin:badges_unknownvehicle_delete", args=[entry.pk]), {"post": "yes"}
    )

    assert english_client.get(reverse("admin:badges_unknownvehicle_add")).status_code == 403
    assert 'name="_save"' not in page
    assert (changed.status_code, deleted.status_code) == (403, 403)
    entry.refresh_from_db()
    assert entry.status == InboxStatus.OPEN


# --- Enrol into vehicle… ----------------------------------------------------------------------


def enrol(client, entry, **data):
    payload = {"action": "enrol_into_vehicle", "_selected_action": [entry.pk], **data}
    return client.post(INBOX_URL, payload)


def test_the_enrol_action_asks_for_the_vehicle_first(english_client, inbox):
    entry = inbox["A014310E004E"]

    response = enrol(english_client, entry, index=0)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/autocharge/action_form.html"
    content = response.content.decode()
    assert "Enrol into vehicle" in content
    assert 'name="vehicle"' in content
    assert f'name="_selected_action" value="{entry.pk}"' in content
    assert 'name="action" value="enrol_into_vehicle"' in content
    assert 'name="confirm" value="yes"' in content
    assert 'name="acknowledge_shared_mac"' not in content
    assert not Badge.objects.exists()


def test_enrolling_creates_the_badge_with_the_seed_s_values(
    english_client, inbox, vehicle, admin_user
):
    entry = inbox["A014310E004E"]

    response = enrol(english_client, entry, confirm="yes", vehicle=vehicle.pk)

    assert response.status_code == 302
    badge = Badge.objects.get()
    assert badge.rfid == "VID:A014310E004E"
    assert badge.visual_number == "A014310E004E"
    assert badge.type == "physical"
    assert badge.state == "enabled"
    assert badge.usage == "professional"
    assert badge.mode == "vehicle"
    assert badge.company == vehicle.company
    assert badge.vehicle == vehicle
    assert badge.description == "Autocharge badge, vehicle FT-123-ER"
    assert (badge.enrolled_via, badge.enrolled_by) == (EnrolledVia.INBOX, admin_user)
    entry.refresh_from_db()
    assert (entry.status, entry.badge, entry.resolved_by) == (
        InboxStatus.ENROLLED,
        badge,
        admin_user,
    )
    assert entry.resolved_at is not None
    badge_url = reverse("admin:badges_badge_change", args=[badge.pk])
    assert messages_of(response) == [
        (
            "success",
            f'VID:A014310E004E enrolled into FT-123-ER: <a href="{badge_url}">'
            "badge VID:A014310E004E</a>.",
        )
    ]


def test_the_enrolled_entry_leaves_the_open_list(english_client, inbox, vehicle):
    enrol(english_client, inbox["A014310E004E"], confirm="yes", vehicle=vehicle.pk)

    assert inbox["A014310E004E"] not in listed(english_client)
    assert inbox["A014310E004E"] in listed(english_client, status="enrolled")


def test_enrolling_without_a_vehicle_shows_the_form_again_and_creates_nothing(
    english_client, inbox
):
    response = enrol(english_client, inbox["A014310E004E"], confirm="yes", vehicle="")

    assert response.status_code == 200
    assert response.context["form"].errors["vehicle"] == ["This field is required."]
    assert not Badge.objects.exists()
    assert UnknownVehicle.objects.get(mac="A014310E004E").status == InboxStatus.OPEN


def test_only_one_entry_is_enrolled_at_a_time(english_client, inbox, vehicle):
    response = english_client.post(
        INBOX_URL,
        {
            "action": "enrol_into_vehicle",
            "_selected_action": [inbox["A014310E004E"].pk, inbox["02AABBCCDDEE"].pk],
            "confirm": "yes",
            "vehicle": vehicle.pk,
        },
    )

    assert response.status_code == 302
    assert messages_of(response) == [("error", "Select exactly one vehicle to enrol.")]
    assert not Badge.objects.exists()


@pytest.fixture
def shared_mac_vehicle(company):
    """A model line the seeded list names (Volkswagen ID.3): every car sends the same EVCCID."""
    return VehicleFactory(
        company=company, license_plate="VW-333-ID", make="Volkswagen", model="ID.3 Pro S"
    )


SHARED_MAC_WARNING = (
    "Volkswagen ID.3 vehicles are known to send a shared or changing MAC address: a badge for "
    "it could let every car of the model charge. Confirm to enrol anyway."
)


def test_a_shared_mac_vehicle_is_not_enrolled_without_the_confirmation(
    english_client, inbox, shared_mac_vehicle
):
    response = enrol(
        english_client, inbox["A014310E004E"], confirm="yes", vehicle=shared_mac_vehicle.pk
    )

    assert response.status_code == 200
    assert response.context["form"].errors["acknowledge_shared_mac"] == [SHARED_MAC_WARNING]
    content = html.unescape(response.content.decode())
    assert SHARED_MAC_WARNING in content
    assert 'name="acknowledge_shared_mac"' in content
    assert "I know this model shares its MAC" in content
    assert not Badge.objects.exists()
    assert UnknownVehicle.objects.get(mac="A014310E004E").status == InboxStatus.OPEN


def test_a_shared_mac_vehicle_is_enrolled_once_staff_confirm(
    english_client, inbox, shared_mac_vehicle
):
    response = enrol(
        english_client,
        inbox["A014310E004E"],
        confirm="yes",
        vehicle=shared_mac_vehicle.pk,
        acknowledge_shared_mac="on",
    )

    assert response.status_code == 302
    badge = Badge.objects.get()
    assert (badge.rfid, badge.vehicle) == ("VID:A014310E004E", shared_mac_vehicle)


def test_a_second_mac_for_a_vehicle_is_enrolled_with_a_warning(english_client, inbox, vehicle):
    first = BadgeFactory(rfid="VID:A014310E0099", company=vehicle.company, vehicle=vehicle)

    response = enrol(english_client, inbox["02AABBCCDDEE"], confirm="yes", vehicle=vehicle.pk)

    assert response.status_code == 302
    assert Badge.objects.filter(vehicle=vehicle).count() == 2
    level, warning = messages_of(response)[0]
    assert (level, warning) == (
        "warning",
        "FT-123-ER already had the Autocharge badge VID:A014310E0099: this vehicle may change "
        "its MAC address. Both badges are kept.",
    )
    assert messages_of(response)[1][0] == "success"
    assert Badge.objects.filter(pk=first.pk).exists()
    assert SecurityEvent.objects.filter(
        kind=SecurityEventKind.MAC_CHANGED, id_tag="VID:02AABBCCDDEE"
    ).exists()


def test_an_entry_enrolled_meanwhile_is_refused_and_nothing_is_created(
    english_client, inbox, vehicle
):
    entry = inbox["A014310E004E"]
    UnknownVehicle.objects.filter(pk=entry.pk).update(status=InboxStatus.ENROLLED)

    response = english_client.post(
        f"{INBOX_URL}?status=all",
        {
            "action": "enrol_into_vehicle",
            "_selected_action": [entry.pk],
            "confirm": "yes",
            "vehicle": vehicle.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["VID:A014310E004E is already enrolled."]
    assert not Badge.objects.exists()


# --- Dismiss… ---------------------------------------------------------------------------------


def dismiss(client, entries, **data):
    payload = {"action": "dismiss", "_selected_action": [e.pk for e in entries], **data}
    return client.post(INBOX_URL, payload)


def test_dismissing_asks_for_a_reason(english_client, inbox):
    entries = [inbox["A014310E004E"], inbox["02AABBCCDDEE"]]

    page = dismiss(english_client, entries, index=0)
    refused_blank = dismiss(english_client, entries, confirm="yes", reason="  ")

    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert refused_blank.status_code == 200
    assert refused_blank.context["form"].errors["reason"] == ["This field is required."]
    assert set(UnknownVehicle.objects.values_list("status", flat=True)) == {InboxStatus.OPEN}


def test_dismissing_several_entries_keeps_the_reason_and_who_decided(
    english_client, inbox, admin_user
):
    entries = [inbox["A014310E004E"], inbox["02AABBCCDDEE"]]

    response = dismiss(english_client, entries, confirm="yes", reason="Visitor from Lyon")

    assert response.status_code == 302
    assert messages_of(response) == [("success", "2 unknown vehicles dismissed.")]
    for entry in entries:
        entry.refresh_from_db()
        assert (entry.status, entry.dismissed_reason, entry.resolved_by) == (
            InboxStatus.DISMISSED,
            "Visitor from Lyon",
            admin_user,
        )
    assert UnknownVehicle.objects.get(mac="001A2B3C4D5E").status == InboxStatus.OPEN
    assert listed(english_client) == [inbox["001A2B3C4D5E"]]


def test_a_dismissed_entry_shows_its_reason(english_client, inbox):
    entry = inbox["02AABBCCDDEE"]
    dismiss(english_client, [entry], confirm="yes", reason="Visitor from Lyon")

    content = english_client.get(entry_url(entry)).content.decode()

    assert "Visitor from Lyon" in content
    assert "Dismissed" in content


# --- The badge form's shared-MAC confirmation ------------------------------------------------


def badge_form(vehicle, **overrides) -> dict:
    data = {
        "rfid": "VID:A014310E004E",
        "visual_number": "",
        "type": "physical",
        "state": "enabled",
        "provider": "",
        "description": "",
        "expires_at_0": "",
        "expires_at_1": "",
        "usage": "professional",
        "mode": "vehicle",
        "company": vehicle.company.pk,
        "vehicle": vehicle.pk,
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_the_badge_form_refuses_a_shared_mac_vehicle_s_vid_badge_without_the_checkbox(
    english_client, shared_mac_vehicle
):
    response = english_client.post(BADGE_ADD_URL, badge_form(shared_mac_vehicle))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["acknowledge_shared_mac"] == [SHARED_MAC_WARNING]
    content = html.unescape(response.content.decode())
    assert SHARED_MAC_WARNING in content
    assert "I know this model shares its MAC" in content
    assert not Badge.objects.exists()


def test_the_badge_form_accepts_a_shared_mac_vehicle_s_vid_badge_with_the_checkbox(
    english_client, shared_mac_vehicle
):
    response = english_client.post(
        BADGE_ADD_URL, badge_form(shared_mac_vehicle, acknowledge_shared_mac="on")
    )

    assert response.status_code == 302
    badge = Badge.objects.get()
    assert (badge.rfid, badge.vehicle, badge.enrolled_via) == (
        "VID:A014310E004E",
        shared_mac_vehicle,
        EnrolledVia.MANUAL,
    )


def test_a_badge_made_by_hand_records_who_made_it_and_closes_its_inbox_entry(
    english_client, inbox, vehicle, admin_user
):
    response = english_client.post(BADGE_ADD_URL, badge_form(vehicle))

    assert response.status_code == 302
    badge = Badge.objects.get()
    assert (badge.enrolled_via, badge.enrolled_by) == (EnrolledVia.MANUAL, admin_user)
    entry = UnknownVehicle.objects.get(mac="A014310E004E")
    assert (entry.status, entry.badge, entry.resolved_by) == (
        InboxStatus.ENROLLED,
        badge,
        admin_user,
    )


def test_the_badge_form_asks_nothing_for_an_rfid_card_or_another_model(
    english_client, shared_mac_vehicle, vehicle
):
    card = english_client.post(BADGE_ADD_URL, badge_form(shared_mac_vehicle, rfid="04A2B3C4D5E6F7"))
    other_model = english_client.post(BADGE_ADD_URL, badge_form(vehicle, rfid="VID:A014310E0050"))

    assert (card.status_code, other_model.status_code) == (302, 302)
    assert set(Badge.objects.values_list("rfid", flat=True)) == {
        "04A2B3C4D5E6F7",
        "VID:A014310E0050",
    }


def test_the_badge_page_shows_how_and_by_whom_it_was_enrolled(
    english_client, inbox, vehicle, admin_user
):
    enrol(english_client, inbox["A014310E004E"], confirm="yes", vehicle=vehicle.pk)
    badge = Badge.objects.get()

    content = english_client.get(
        reverse("admin:badges_badge_change", args=[badge.pk])
    ).content.decode()

    assert "Enrolled via" in content
    assert "Enrolled from the unknown-vehicle inbox" in content
    assert admin_user.username in content
    assert 'name="enrolled_via"' not in content


# --- Shared-MAC model lines -------------------------------------------------------------------


def test_staff_record_a_shared_mac_model_line_and_find_it(english_client):
    response = english_client.post(
        reverse("admin:badges_sharedmacmodel_add"),
        {"make": "Hyundai", "model": "Ioniq 5", "note": "Randomised EVCCID", "_save": "Save"},
    )

    assert response.status_code == 302
    line = SharedMacModel.objects.get(make="Hyundai")
    assert (line.make, line.model, line.note) == ("Hyundai", "Ioniq 5", "Randomised EVCCID")
    changelist = reverse("admin:badges_sharedmacmodel_changelist")
    assert list(english_client.get(changelist, {"q": "ioniq"}).context["cl"].result_list) == [line]
    assert list(english_client.get(changelist, {"q": "kangoo"}).context["cl"].result_list) == []


def test_staff_edit_a_shared_mac_model_line_in_the_list(english_client):
    line = SharedMacModel.objects.get(make="Mazda", model="MX-30")
    changelist = reverse("admin:badges_sharedmacmodel_changelist")

    response = english_client.post(
        f"{changelist}?q=MX-30",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": line.pk,
            "form-0-make": "Mazda",
            "form-0-model": "MX-30 R-EV",
            "form-0-note": "Checked on our fleet",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.model, line.note) == ("MX-30 R-EV", "Checked on our fleet")


def test_editing_a_shared_mac_vehicle_s_badge_without_touching_its_tag_needs_no_checkbox(
    english_client, shared_mac_vehicle
):
    badge = BadgeFactory(
        rfid="VID:A014310E004E", company=shared_mac_vehicle.company, vehicle=shared_mac_vehicle
    )
    url = reverse("admin:badges_badge_change", args=[badge.pk])

    page = english_client.get(url).content.decode()
    response = english_client.post(
        url,
        badge_form(
            shared_mac_vehicle,
            visual_number=badge.visual_number,
            description="Night shift",
            state="disabled",
        ),
    )

    assert 'name="acknowledge_shared_mac"' in page
    assert response.status_code == 302
    badge.refresh_from_db()
    assert (badge.state, badge.description) == ("disabled", "Night shift")


def test_the_add_form_shows_no_confirmation_box_before_a_vehicle_is_chosen(english_client):
    content = english_client.get(BADGE_ADD_URL).content.decode()

    assert 'name="acknowledge_shared_mac"' not in content
    assert "Enrolled via" not in content

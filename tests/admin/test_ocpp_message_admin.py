"""The OCPP log in the admin: read-only, searchable, and the seed's procedure for an unknown
vehicle (find the rejected Authorize, take its idTag, create the badge) in one click."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from badges.models import Badge
from ocpp_gateway.models import Direction, LogStatus, OcppMessage
from tests.admin.conftest import authorize_log
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:ocpp_gateway_ocppmessage_changelist")
BADGE_ADD_URL = reverse("admin:badges_badge_add")


def change_url(message: OcppMessage) -> str:
    return reverse("admin:ocpp_gateway_ocppmessage_change", args=[message.pk])


def create_badge_links(content: str) -> list[str]:
    """The targets of the "Create badge" links (any language) on a page, unescaped."""
    return [
        html.unescape(href)
        for href in re.findall(r'<a href="([^"]*)">(?:Create badge|Créer le badge)</a>', content)
    ]


# --- Read-only --------------------------------------------------------------------------------


def test_nobody_adds_an_ocpp_message_by_hand(english_client):
    add_url = reverse("admin:ocpp_gateway_ocppmessage_add")

    assert english_client.get(add_url).status_code == 403
    assert add_url not in english_client.get(CHANGELIST_URL).content.decode()


def test_an_ocpp_message_cannot_be_changed(english_client, unknown_vehicle_log):
    page = english_client.get(change_url(unknown_vehicle_log))
    response = english_client.post(
        change_url(unknown_vehicle_log), {"id_tag": "04A2B3C4D5E6F7", "status": "Accepted"}
    )

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert response.status_code == 403
    unknown_vehicle_log.refresh_from_db()
    assert (unknown_vehicle_log.id_tag, unknown_vehicle_log.status) == (
        "VID:A014310E004E",
        "Rejected",
    )


def test_an_ocpp_message_cannot_be_deleted(english_client, unknown_vehicle_log):
    delete_url = reverse("admin:ocpp_gateway_ocppmessage_delete", args=[unknown_vehicle_log.pk])

    assert english_client.get(delete_url).status_code == 403
    assert english_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = english_client.post(
        CHANGELIST_URL,
        {"action": "delete_selected", "_selected_action": [unknown_vehicle_log.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert OcppMessage.objects.filter(pk=unknown_vehicle_log.pk).exists()


def test_the_payload_is_pretty_printed(english_client, station):
    message = authorize_log(
        station=station,
        id_tag="VID:A014310E004E",
        status=LogStatus.REJECTED,
        reason="unknown_badge",
        ocpp_status="Invalid",
        payload={"idTag": "VID:A014310E004E", "extra": {"evse": 1, "note": "café"}},
    )

    content = english_client.get(change_url(message)).content.decode()

    expected = (
        "<pre>{\n"
        "  &quot;idTag&quot;: &quot;VID:A014310E004E&quot;,\n"
        "  &quot;extra&quot;: {\n"
        "    &quot;evse&quot;: 1,\n"
        "    &quot;note&quot;: &quot;café&quot;\n"
        "  }\n"
        "}</pre>"
    )
    assert expected in content


# --- Filters and search -----------------------------------------------------------------------


@pytest.fixture
def log(station):
    """Entries that differ on every filtered column."""
    elsewhere = StationFactory(charge_point_id="CP-ZONE-B")
    now = timezone.now()
    return {
        "rejected": authorize_log(
            station=station,
            id_tag="VID:A014310E004E",
            status=LogStatus.REJECTED,
            reason="unknown_badge",
            ocpp_status="Invalid",
            created_at=now - timedelta(minutes=4),
        ),
        "accepted": authorize_log(
            station=station,
            id_tag="04A2B3C4D5E6F7",
            status=LogStatus.ACCEPTED,
            reason="accepted",
            ocpp_status="Accepted",
            created_at=now - timedelta(minutes=3),
        ),
        "heartbeat": OcppMessage.objects.create(
            station=elsewhere,
            charge_point_id=elsewhere.charge_point_id,
            direction=Direction.IN,
            message_type=2,
            unique_id="7",
            action="Heartbeat",
            payload={},
            created_at=now - timedelta(minutes=2),
        ),
        "answer": OcppMessage.objects.create(
            station=elsewhere,
            charge_point_id=elsewhere.charge_point_id,
            direction=Direction.OUT,
            message_type=3,
            unique_id="7",
            action="Heartbeat",
            payload={"currentTime": "2026-01-01T00:00:00Z"},
            created_at=now - timedelta(minutes=1),
        ),
        "error": OcppMessage.objects.create(
            station=elsewhere,
            charge_point_id=elsewhere.charge_point_id,
            direction=Direction.IN,
            status=LogStatus.ERROR,
            payload="not json",
            created_at=now,
        ),
    }


def listed(client, **query) -> set:
    response = client.get(CHANGELIST_URL, query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def test_the_log_lists_newest_first(english_client, log):
    response = english_client.get(CHANGELIST_URL)

    assert list(response.context["cl"].result_list) == [
        log[name] for name in ["error", "answer", "heartbeat", "accepted", "rejected"]
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "Authorize"}, {"rejected", "accepted"}),
        ({"action": "Heartbeat"}, {"heartbeat", "answer"}),
        ({"direction__exact": "out"}, {"answer"}),
        ({"direction__exact": "in"}, {"rejected", "accepted", "heartbeat", "error"}),
        ({"status__exact": "Rejected"}, {"rejected"}),
        ({"status__exact": "Accepted"}, {"accepted"}),
        ({"status__exact": "Error"}, {"error"}),
        ({"reason": "unknown_badge"}, {"rejected"}),
        ({"action": "Authorize", "status__exact": "Rejected"}, {"rejected"}),
    ],
)
def test_the_log_filters_narrow_the_list(english_client, log, query, expected):
    assert listed(english_client, **query) == {log[name] for name in expected}


def test_the_log_filters_on_station(english_client, log, station):
    assert listed(english_client, station__id__exact=station.pk) == {
        log["rejected"],
        log["accepted"],
    }


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("VID:A014310E004E", {"rejected"}),
        ("a014310e004e", {"rejected"}),
        ("04A2B3", {"accepted"}),
        ("CP-ZONE-B", {"heartbeat", "answer", "error"}),
    ],
)
def test_the_log_searches_on_id_tag(english_client, log, search, expected):
    assert listed(english_client, q=search) == {log[name] for name in expected}


# --- "Create badge" from a rejected Autocharge ------------------------------------------------


EXPECTED_PREFILL = {
    "rfid": "VID:A014310E004E",
    "visual_number": "A014310E004E",
    "type": "physical",
    "state": "enabled",
    "usage": "professional",
    "mode": "vehicle",
}


def test_the_list_offers_to_create_the_badge_of_an_unknown_vehicle(english_client, log):
    content = english_client.get(CHANGELIST_URL).content.decode()

    links = create_badge_links(content)
    assert len(links) == 1
    url = urlsplit(links[0])
    assert url.path == BADGE_ADD_URL
    assert {key: values for key, values in parse_qs(url.query).items()} == {
        **{key: [value] for key, value in EXPECTED_PREFILL.items()},
        "description": ["Autocharge badge, vehicle"],
        # The refusing station: it pre-fills the company and provider.
        "refused_at": [str(log["rejected"].station_id)],
    }


def test_the_detail_offers_to_create_the_badge_of_an_unknown_vehicle(
    english_client, unknown_vehicle_log
):
    content = english_client.get(change_url(unknown_vehicle_log)).content.decode()

    assert len(create_badge_links(content)) == 1
    assert create_badge_links(content)[0].startswith(BADGE_ADD_URL + "?")


def test_the_create_badge_link_opens_the_seed_s_form_pre_filled(
    english_client, unknown_vehicle_log
):
    detail = english_client.get(change_url(unknown_vehicle_log))
    [link] = create_badge_links(detail.content.decode())

    response = english_client.get(link)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert {name: form[name].value() for name in EXPECTED_PREFILL} == EXPECTED_PREFILL
    assert form["description"].value() == "Autocharge badge, vehicle"
    content = response.content.decode()
    assert 'name="rfid" value="VID:A014310E004E"' in content
    assert 'name="visual_number" value="A014310E004E"' in content
    assert "Autocharge badge, vehicle</textarea>" in content
    for value in ["physical", "enabled", "professional", "vehicle"]:
        assert f'<option value="{value}" selected>' in content


def test_in_french_the_pre_filled_description_is_the_seed_s(french_client, unknown_vehicle_log):
    link = create_badge_links(french_client.get(CHANGELIST_URL).content.decode())[0]

    response = french_client.get(link)

    form = response.context["adminform"].form
    assert form["description"].value() == "Badge Autocharge véhicule"
    assert form["rfid"].value() == "VID:A014310E004E"
    content = response.content.decode()
    assert "Badge Autocharge véhicule</textarea>" in content
    assert '<option value="physical" selected>Physique</option>' in content
    assert '<option value="enabled" selected>Activé</option>' in content
    assert '<option value="professional" selected>Professionnel</option>' in content
    assert (
        '<option value="vehicle" selected>Véhicule – Badge attribué uniquement à un véhicule'
        "</option>" in content
    )


@pytest.mark.parametrize(
    ("client_fixture", "description"),
    [
        ("english_client", "Autocharge badge, vehicle FT-123-ER"),
        ("french_client", "Badge Autocharge véhicule FT-123-ER"),
    ],
)
def test_posting_the_pre_filled_form_with_a_vehicle_creates_the_badge(
    request, client_fixture, description, unknown_vehicle_log, vehicle
):
    client = request.getfixturevalue(client_fixture)
    link = create_badge_links(client.get(change_url(unknown_vehicle_log)).content.decode())[0]
    form = client.get(link).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "groups"}
    data.update(expires_at_0="", expires_at_1="", company=vehicle.company.pk, vehicle=vehicle.pk)

    response = client.post(BADGE_ADD_URL, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    badge = Badge.objects.get()
    assert (badge.rfid, badge.visual_number, badge.description) == (
        "VID:A014310E004E",
        "A014310E004E",
        description,
    )
    assert (badge.type, badge.state, badge.usage, badge.mode) == (
        "physical",
        "enabled",
        "professional",
        "vehicle",
    )
    assert (badge.company, badge.vehicle) == (vehicle.company, vehicle)


@pytest.mark.parametrize(
    ("id_tag", "status", "reason"),
    [
        pytest.param("VID:A014310E004E", LogStatus.ACCEPTED, "accepted", id="accepted VID"),
        pytest.param("04A2B3C4D5E6F7", LogStatus.REJECTED, "unknown_badge", id="unknown RFID"),
        pytest.param("VID:A014310E004E", LogStatus.REJECTED, "badge_disabled", id="known VID"),
        pytest.param("VID:A014310E00", LogStatus.REJECTED, "malformed_id_tag", id="malformed"),
    ],
)
def test_no_create_badge_link_unless_a_vehicle_is_unknown(
    english_client, station, id_tag, status, reason
):
    message = authorize_log(
        station=station, id_tag=id_tag, status=status, reason=reason, ocpp_status="Invalid"
    )

    for url in [CHANGELIST_URL, change_url(message)]:
        content = english_client.get(url).content.decode()
        assert create_badge_links(content) == []
        assert BADGE_ADD_URL + "?" not in content


def test_every_kind_of_log_entry_has_a_detail_page(english_client, log):
    for message in log.values():
        response = english_client.get(change_url(message))
        assert response.status_code == 200, message
    content = english_client.get(change_url(log["error"])).content.decode()
    assert "<pre>&quot;not json&quot;</pre>" in content


def test_an_entry_of_a_deleted_station_is_still_shown(english_client, station):
    message = authorize_log(
        station=station,
        id_tag="VID:A014310E004E",
        status=LogStatus.REJECTED,
        reason="unknown_badge",
        ocpp_status="Invalid",
    )
    station.delete()

    listed_page = english_client.get(CHANGELIST_URL)
    detail = english_client.get(change_url(message))

    assert list(listed_page.context["cl"].result_list) == [message]
    assert detail.status_code == 200
    assert "CP-DEPOT-1" in detail.content.decode()
    assert len(create_badge_links(detail.content.decode())) == 1


@pytest.mark.parametrize(
    ("client_fixture", "label"),
    [("english_client", "Unknown badge"), ("french_client", "Badge inconnu")],
)
def test_staff_read_why_a_tag_was_refused_in_their_language(
    request, client_fixture, label, unknown_vehicle_log
):
    client = request.getfixturevalue(client_fixture)

    for url in [CHANGELIST_URL, change_url(unknown_vehicle_log)]:
        content = client.get(url).content.decode()
        assert label in content
        assert "unknown_badge<" not in content


def test_the_reason_filter_offers_every_reason_by_its_label(french_client, log):
    response = french_client.get(CHANGELIST_URL, {"reason": "badge_disabled"})

    content = response.content.decode()
    assert "Par motif" in content
    for label in ["Badge inconnu", "Badge désactivé", "Badge non autorisé sur cette borne"]:
        assert label in content
    assert list(response.context["cl"].result_list) == []


def test_once_the_badge_exists_the_entry_links_to_it_instead_of_offering_a_duplicate(
    english_client, unknown_vehicle_log, station
):
    from tests.factories import BadgeFactory

    badge = BadgeFactory(rfid=unknown_vehicle_log.id_tag, company=station.company)
    badge_url = reverse("admin:badges_badge_change", args=[badge.pk])

    for url in [CHANGELIST_URL, change_url(unknown_vehicle_log)]:
        content = english_client.get(url).content.decode()
        assert create_badge_links(content) == []
        assert f'<a href="{badge_url}">Open badge</a>' in content

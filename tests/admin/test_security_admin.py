"""Security events in the admin: what the services recorded, filtered and searched, never
edited."""

import html

import pytest
from django.urls import reverse

from stations.enrolment import authorization_request
from stations.models import SecurityEvent, SecurityEventKind, Severity
from stations.security import security_event_record
from tests.factories import CompanyFactory, StationFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:stations_securityevent_changelist")


def event_url(event: SecurityEvent) -> str:
    return reverse("admin:stations_securityevent_change", args=[event.pk])


def listed(client, **query) -> set:
    response = client.get(CHANGELIST_URL, query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.fixture
def events(station):
    """A probing MAC (refused at three companies' stations, as the service detects it) and a
    vehicle that changed its MAC."""
    for name in ["Taxis Bleus", "Parking Gare"]:
        elsewhere = StationFactory(company=CompanyFactory(name=name))
        authorization_request(id_tag="VID:02AABBCCDDEE", station=elsewhere)
    authorization_request(id_tag="VID:02AABBCCDDEE", station=station)
    changed = security_event_record(
        kind=SecurityEventKind.MAC_CHANGED,
        severity=Severity.INFO,
        station=None,
        id_tag="VID:A014310E0050",
        details={"vehicle": "FT-123-ER", "previous": ["VID:A014310E004E"]},
    )
    probing = SecurityEvent.objects.get(kind=SecurityEventKind.MAC_PROBING)
    return {"probing": probing, "changed": changed}


def test_the_security_events_list_renders_in_english(english_client, events):
    content = html.unescape(english_client.get(CHANGELIST_URL).content.decode())

    for wording in [
        "Security events",
        "MAC refused at stations of several companies",
        "Vehicle paired with a new MAC address",
        "Warning",
        "Information",
        "VID:02AABBCCDDEE",
        "E-mail sent",
        "By kind",
        "By severity",
    ]:
        assert wording in content, wording


def test_the_security_events_list_speaks_french(french_client, events):
    content = html.unescape(french_client.get(CHANGELIST_URL).content.decode())

    for wording in [
        "Événements de sécurité",
        "MAC refusée sur des bornes de plusieurs entreprises",
        "Véhicule appairé avec une nouvelle adresse MAC",
        "Avertissement",
        "E-mail envoyé",
    ]:
        assert wording in content, wording
    assert "Security events" not in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind__exact": "mac_probing"}, {"probing"}),
        ({"kind__exact": "mac_changed"}, {"changed"}),
        ({"severity__exact": "info"}, {"changed"}),
        ({"severity__exact": "critical"}, set()),
        ({"q": "02aabb"}, {"probing"}),
        ({"q": "VID:A014310E0050"}, {"changed"}),
    ],
)
def test_the_security_events_list_filters_and_searches(english_client, events, query, expected):
    assert listed(english_client, **query) == {events[name] for name in expected}


def test_the_security_events_list_filters_on_the_station(english_client, events, station):
    takeover = security_event_record(
        kind=SecurityEventKind.STATION_TAKEOVER, severity=Severity.WARNING, station=station
    )

    assert listed(english_client, station__id__exact=station.pk) == {takeover}


def test_a_security_event_shows_its_details_pretty_printed(english_client, events):
    response = english_client.get(event_url(events["changed"]))

    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    pretty = '{\n  "vehicle": "FT-123-ER",\n  "previous": [\n    "VID:A014310E004E"\n  ]\n}'
    assert f"<pre>{pretty}</pre>" in content


def test_security_events_cannot_be_added_changed_or_deleted(english_client, events):
    event = events["probing"]

    page = english_client.get(event_url(event)).content.decode()
    changed = english_client.post(event_url(event), {"severity": "info"})
    deleted = english_client.post(
        reverse("admin:stations_securityevent_delete", args=[event.pk]), {"post": "yes"}
    )

    assert english_client.get(reverse("admin:stations_securityevent_add")).status_code == 403
    assert 'name="_save"' not in page
    assert (changed.status_code, deleted.status_code) == (403, 403)
    event.refresh_from_db()
    assert event.severity == Severity.WARNING

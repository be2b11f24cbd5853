"""Every portal page and the main admin pages, rendered in French and in English with realistic
data (sessions over weeks, a session charging, refusals, faulted connectors, a security event):
no English left on a French page, and no decimal comma in an SVG coordinate or a data
attribute (a French page once drew its charts with ``x="50,24"``: no bar showed)."""

from __future__ import annotations

import gettext
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from pprint import pformat

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ocpp_gateway.models import (
    Command,
    CommandAction,
    Direction,
    LogStatus,
    MessageType,
    OcppMessage,
)
from stations.enrolment import authorization_request
from stations.models import (
    ChargingSession,
    ConnectionState,
    SecurityEventKind,
    Severity,
    Station,
)
from stations.security import security_event_record
from stations.services import connector_update_status, session_start, session_stop
from tests.factories import SiteFactory, seed_autocharge_profiles
from tests.portal.conftest import make_fleet

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.mo"

# What stations send, as staff must never read it raw on a French page (the raw value is in the
# tooltip only).
ENGLISH_WORDS = [
    "Available",
    "Preparing",
    "Charging",
    "Faulted",
    "Finishing",
    "Unavailable",
    "SuspendedEV",
    "Accepted",
    "Invalid",
    "Blocked",
    "Rejected",
    "EVDisconnected",
    "Local",
    "Remote",
    "GroundFailure",
    "Installed",
    "Uploaded",
    "in Authorize",
    "Auto-charge",
    "Auto-Charge",
]

SVG_NUMBER_ATTRIBUTES = {"x", "y", "x1", "x2", "y1", "y2", "width", "height", "cx", "cy", "r"}
NUMBER = re.compile(r"-?\d+(\.\d+)?(px|rem|em|%)?")
DECIMAL_COMMA = re.compile(r"-?\d+,\d+$")


# Not read as words: code, and the protocol's documents as a station sent them (payloads).
HIDDEN = {"script", "style", "template", "pre"}


class Page(HTMLParser):
    """A page's visible text (not scripts, styles nor attributes) and its SVG attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.texts: list[str] = []
        self.svg_attributes: list[tuple[str, str, str]] = []
        self.data_attributes: list[tuple[str, str]] = []
        self._hidden = 0
        self._svg = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self._hidden += 1
        if tag == "svg":
            self._svg += 1
        for name, value in attrs:
            if self._svg and (name in SVG_NUMBER_ATTRIBUTES or name == "viewbox"):
                self.svg_attributes.append((tag, name, value or ""))
            if name.startswith("data-"):
                self.data_attributes.append((name, value or ""))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "svg":
            self._svg -= 1

    def handle_endtag(self, tag):
        if tag in HIDDEN:
            self._hidden -= 1
        if tag == "svg":
            self._svg -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def translated_msgids() -> set[str]:
    """Our catalogue's strings whose French differs, as a page would show them in English:
    placeholders and plurals left out (their English is never whole on a page)."""
    with CATALOGUE.open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog
    # A language's name is shown in that language, in the language menu; OCPP's action names
    # (Reset, ClearCache…) are the protocol's words, the same in every language.
    untranslatable = {str(name) for _code, name in settings.LANGUAGES} | set(CommandAction.values)
    return {
        msgid
        for msgid, msgstr in catalogue.items()
        if msgid not in untranslatable
        and isinstance(msgid, str)
        and msgid
        and msgstr
        and msgstr != msgid
        and "%" not in msgid
        and "{" not in msgid
    }


@pytest.fixture
def world(db):
    """Two companies' fleets with weeks of charging, one vehicle charging now, refusals, a
    faulted connector, a site, a command and a security event."""
    seed_autocharge_profiles()
    alpha, beta = make_fleet("Alpha", 1), make_fleet("Beta", 2)
    site = SiteFactory(company=alpha.company, name="Dépôt Nord")
    Station.objects.filter(pk=alpha.station.pk).update(
        site=site,
        connection_state=ConnectionState.CONNECTED,
        firmware_status="Installed",
        log_status="Uploaded",
    )
    alpha.station.refresh_from_db()
    now = timezone.now()
    for days_ago, energy_wh in [(0, 12_345), (1, 7_891), (3, 20_500), (40, 33_333), (75, 9_999)]:
        started = now - timedelta(days=days_ago, hours=2)
        session, decision = session_start(
            station=alpha.station,
            connector_id=1,
            id_tag=alpha.badge.rfid,
            meter_start=1_000,
            started_at=started,
        )
        assert decision.accepted
        session_stop(
            station=alpha.station,
            transaction_id=session.pk,
            meter_stop=1_000 + energy_wh,
            stopped_at=started + timedelta(minutes=45),
            reason="Local" if days_ago % 2 else "EVDisconnected",
        )
    session_start(
        station=alpha.station,
        connector_id=1,
        id_tag=alpha.badge.rfid,
        meter_start=50_000,
        started_at=now - timedelta(minutes=20),
    )
    connector_update_status(station=alpha.station, connector_id=1, status="Charging")
    connector_update_status(
        station=alpha.station, connector_id=2, status="Faulted", error_code="GroundFailure"
    )
    connector_update_status(station=alpha.station, connector_id=3, status="Available")
    connector_update_status(station=beta.station, connector_id=1, status="Available")
    for id_tag in ["VID:A014310E0ABC", "VID:A014310E0ABC", "VID:A014310E0DEF"]:
        authorization_request(id_tag=id_tag, station=alpha.station, connector_id=1)
    for status, ocpp_status, reason, id_tag in [
        (LogStatus.REJECTED, "Invalid", "unknown_badge", "VID:A014310E0ABC"),
        (LogStatus.ACCEPTED, "Accepted", "", alpha.badge.rfid),
    ]:
        OcppMessage.objects.create(
            station=alpha.station,
            charge_point_id=alpha.station.charge_point_id,
            direction=Direction.IN,
            message_type=MessageType.CALL,
            unique_id="42",
            action="Authorize",
            status=status,
            ocpp_status=ocpp_status,
            reason=reason,
            id_tag=id_tag,
            payload={"idTag": id_tag},
            created_at=now,
        )
    Command.objects.create(
        station=alpha.station,
        action="Reset",
        payload={"type": "Soft"},
        state="accepted",
        ocpp_status="Accepted",
        response={"status": "Accepted"},
    )
    security_event_record(
        kind=SecurityEventKind.STATION_LOGIN_FAILED,
        severity=Severity.WARNING,
        station=alpha.station,
        details={"station": alpha.station.charge_point_id, "attempts": 3},
    )
    return {"alpha": alpha, "site": site}


def portal_urls(world) -> list[str]:
    alpha = world["alpha"]
    today = timezone.localdate()
    return [
        reverse("portal:dashboard"),
        reverse("portal:station-list"),
        reverse("portal:station-detail", args=[alpha.station.pk]),
        reverse("portal:site-list"),
        reverse("portal:site", args=[world["site"].pk]),
        reverse("portal:vehicle-list"),
        reverse("portal:vehicle-detail", args=[alpha.vehicle.pk]),
        reverse("portal:report")
        + f"?start={(today - timedelta(days=90)).isoformat()}&end={today.isoformat()}",
        reverse("portal:session-list"),
        reverse("portal:refusal-list"),
        reverse("portal:statement")
        + f"?vehicle={alpha.vehicle.pk}&start={(today - timedelta(days=90)).isoformat()}"
        + f"&end={today.isoformat()}",
        reverse("alerts:mine"),
        reverse("alerts:subscription-add"),
    ]


def admin_urls() -> list[str]:
    """The index, then each model's changelist, add form, and the change form and history of
    its first record (where the admin offers them)."""
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(AnySuperuser()):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
        record = model.objects.first()
        if record is not None:
            for view in ("change", "history"):
                try:
                    urls.append(reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[record.pk]))
                except NoReverseMatch:  # a model shown as a list only
                    pass
    return urls


class AnySuperuser:
    """Enough of a request for ``has_add_permission``: models nobody adds by hand (sessions,
    logs) say so whoever asks."""

    class user:
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(_permission, _obj=None) -> bool:
            return True


def rendered(client: Client, url: str, language: str) -> Page:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return Page(response.content.decode())


def svg_problems(page: Page) -> list[str]:
    problems = []
    for tag, name, value in page.svg_attributes:
        numbers = value.split() if name == "viewbox" else [value]
        if not all(NUMBER.fullmatch(number) for number in numbers):
            problems.append(f"<{tag} {name}={value!r}>")
    problems += [
        f"{name}={value!r}" for name, value in page.data_attributes if DECIMAL_COMMA.match(value)
    ]
    return problems


def english_left(page: Page, english: set[str]) -> list[str]:
    """Our catalogue's English shown whole as a text, and the raw words stations send."""
    whole = {text for text in page.texts if text.rstrip(" :") in english}
    words = {word for word in ENGLISH_WORDS if re.search(rf"(?<![\w-]){word}(?![\w-])", page.text)}
    return sorted(whole | words)


def problems_on(client: Client, urls: list[str], language: str, english: set[str]) -> dict:
    problems = {}
    for url in urls:
        page = rendered(client, url, language)
        found = svg_problems(page) + (english_left(page, english) if language == "fr" else [])
        if found:
            problems[url] = found
    return problems


@pytest.fixture
def superuser_client(admin_client) -> Client:
    return admin_client


def test_every_portal_page_reads_in_french_and_draws_valid_svg(world, superuser_client):
    problems = problems_on(superuser_client, portal_urls(world), "fr", translated_msgids())
    assert not problems, pformat(problems)


def test_the_login_page_reads_in_french(db):
    url = reverse("portal:login")

    problems = problems_on(Client(), [url], "fr", translated_msgids())

    assert not problems, pformat(problems)
    assert "Mot de passe" in rendered(Client(), url, "fr").text


def test_every_portal_page_renders_in_english_with_valid_svg(world, superuser_client):
    problems = problems_on(superuser_client, portal_urls(world), "en", set())
    assert not problems, pformat(problems)


def test_the_vehicle_charts_draw_their_bars_in_french(world, superuser_client):
    url = reverse("portal:vehicle-detail", args=[world["alpha"].vehicle.pk])

    page = rendered(superuser_client, url, "fr")

    bars = [value for tag, name, value in page.svg_attributes if tag == "rect" and name == "x"]
    assert len(bars) == 30 + 12
    assert any("." in value for value in bars)  # fractions kept, with a decimal point
    assert "12,3 kWh" in page.text  # the figures staff read stay French


def test_the_main_admin_pages_read_in_french(world, superuser_client):
    problems = problems_on(superuser_client, admin_urls(), "fr", translated_msgids())
    assert not problems, pformat(problems)


def test_the_main_admin_pages_render_in_english(world, superuser_client):
    problems = problems_on(superuser_client, admin_urls(), "en", set())
    assert not problems, pformat(problems)


def test_the_admin_delete_action_agrees_with_feminine_models_in_french(world, superuser_client):
    url = reverse("admin:stations_station_changelist")

    page = superuser_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Supprimer la sélection (bornes)" in page
    assert "bornes sélectionnés" not in page


def test_station_values_show_their_label_with_the_raw_value_in_a_tooltip(world, superuser_client):
    station = world["alpha"].station
    url = reverse("portal:station-detail", args=[station.pk])

    french = superuser_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = superuser_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<span title="Faulted">En défaut</span>' in french
    assert '<span title="GroundFailure">Défaut de terre</span>' in french
    assert '<span title="Invalid">Invalide</span>' in french
    assert "Connecteur 2 : <strong>" in french
    assert '<span title="Faulted">Faulted</span>' in english
    admin_page = superuser_client.get(
        reverse("admin:stations_station_change", args=[station.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert '<span title="Charging">En charge</span>' in admin_page


def test_a_sessions_stop_reason_reads_in_french_in_the_admin(world, superuser_client):
    session = ChargingSession.objects.filter(stop_reason="Local").first()
    url = reverse("admin:stations_chargingsession_change", args=[session.pk])

    page = superuser_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<span title="Local">Arrêtée à la borne</span>' in page
    assert not re.search(r">\s*Local\s*<", page)


def test_the_live_feed_names_connector_statuses_in_the_pages_language(world, superuser_client):
    response = superuser_client.get(reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE="fr")

    texts = json.loads(
        re.search(
            r'<script id="live-messages" type="application/json">(.*?)</script>',
            response.content.decode(),
            re.S,
        ).group(1)
    )
    assert texts["statuses"]["Charging"] == "En charge"
    assert texts["statuses"]["SuspendedEVSE"] == "Suspendu par la borne"

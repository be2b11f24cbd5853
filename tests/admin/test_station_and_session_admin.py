"""Stations with their connectors, and charging sessions with their meter values."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stations.models import ChargingSession, Connector, MeterValue, Station, StationConnection

pytestmark = pytest.mark.django_db


def session_url(session: ChargingSession) -> str:
    return reverse("admin:stations_chargingsession_change", args=[session.pk])


def station_url(station: Station) -> str:
    return reverse("admin:stations_station_change", args=[station.pk])


# --- Charging sessions ------------------------------------------------------------------------


def test_a_charging_session_shows_its_meter_values_inline(english_client, charging_session):
    response = english_client.get(session_url(charging_session))

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.model is MeterValue
    assert list(inline.formset.queryset) == list(charging_session.meter_values.all())
    content = response.content.decode()
    assert "Meter values" in content
    assert "4321" in content
    assert "8765" in content
    assert "Energy.Active.Import.Register" in content


def test_the_meter_values_inline_is_view_only(english_client, charging_session):
    response = english_client.get(session_url(charging_session))

    [inline] = response.context["inline_admin_formsets"]
    assert (inline.has_add_permission, inline.has_change_permission) == (False, False)
    assert inline.has_delete_permission is False
    content = response.content.decode()
    assert 'name="meter_values-0-value"' not in content
    assert "meter_values-0-DELETE" not in content
    assert 'name="meter_values-MAX_NUM_FORMS" value="0"' in content


def test_a_charging_session_shows_the_vehicle_and_energy(english_client, charging_session):
    content = english_client.get(session_url(charging_session)).content.decode()

    assert "FT-123-ER" in content
    assert "12345" in content
    assert "VID:A014310E0099" in content


def test_a_charging_session_cannot_be_changed(english_client, charging_session):
    page = english_client.get(session_url(charging_session))
    response = english_client.post(session_url(charging_session), {"energy_wh": "1"})

    assert 'name="_save"' not in page.content.decode()
    assert 'name="energy_wh"' not in page.content.decode()
    assert response.status_code == 403
    charging_session.refresh_from_db()
    assert charging_session.energy_wh == 12345


def test_a_charging_session_cannot_be_added_or_deleted(english_client, charging_session):
    delete_url = reverse("admin:stations_chargingsession_delete", args=[charging_session.pk])

    assert english_client.get(reverse("admin:stations_chargingsession_add")).status_code == 403
    assert english_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ChargingSession.objects.filter(pk=charging_session.pk).exists()
    assert charging_session.meter_values.count() == 2


def test_the_session_list_filters_on_authorization_method_and_searches_the_plate(
    english_client, charging_session
):
    changelist = reverse("admin:stations_chargingsession_changelist")

    def listed(**query):
        return list(english_client.get(changelist, query).context["cl"].result_list)

    assert listed(auth_method__exact="autocharge") == [charging_session]
    assert listed(auth_method__exact="rfid") == []
    assert listed(q="ft-123") == [charging_session]
    assert listed(q="CP-DEPOT-1") == [charging_session]
    assert listed(q="ZZ-999-ZZ") == []


def test_the_session_list_speaks_french(french_client, charging_session):
    content = french_client.get(
        reverse("admin:stations_chargingsession_changelist")
    ).content.decode()

    assert "Sessions de recharge" in content
    assert "Énergie (Wh)" in content
    assert "Autocharge" in content


# --- Stations ---------------------------------------------------------------------------------


def test_a_station_shows_its_connectors_inline(english_client, station):
    response = english_client.get(station_url(station))

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.model is Connector
    assert list(inline.formset.queryset) == list(station.connectors.all())
    content = response.content.decode()
    for shown in ["Connectors", "Available", "NoError", "Faulted", "GroundFailure", "Earth leak"]:
        assert shown in content, shown


def test_the_connectors_inline_is_view_only(english_client, station):
    response = english_client.get(station_url(station))

    [inline] = response.context["inline_admin_formsets"]
    assert (inline.has_add_permission, inline.has_change_permission) == (False, False)
    assert inline.has_delete_permission is False
    content = response.content.decode()
    assert 'name="connectors-0-status"' not in content
    assert "connectors-0-DELETE" not in content
    assert 'name="connectors-MAX_NUM_FORMS" value="0"' in content


def test_the_station_page_speaks_french(french_client, station):
    content = french_client.get(station_url(station)).content.decode()

    assert "Connecteurs" in content
    assert "Identifiant de la borne" in content
    assert "Mode d’autorisation" in content
    assert "Badges vérifiés" in content


def test_staff_change_a_station_s_settings_and_its_connectors_are_untouched(
    english_client, station
):
    page = english_client.get(station_url(station))
    management = page.context["inline_admin_formsets"][0].formset.management_form
    data = {
        "charge_point_id": station.charge_point_id,
        "name": "Dépôt Nord – quai 2",
        "company": station.company.pk,
        "auth_mode": "open",
        **{management.add_prefix(name): value for name, value in management.initial.items()},
        "_save": "Save",
    }

    response = english_client.post(station_url(station), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    station.refresh_from_db()
    assert (station.name, station.auth_mode) == ("Dépôt Nord – quai 2", "open")
    assert list(station.connectors.values_list("connector_id", "status")) == [
        (1, "Available"),
        (2, "Faulted"),
    ]


def test_staff_register_a_new_station(english_client, company):
    data = {
        "charge_point_id": "CP-NEW-1",
        "name": "Parking visiteurs",
        "company": company.pk,
        "auth_mode": "badge",
        "connectors-TOTAL_FORMS": "0",
        "connectors-INITIAL_FORMS": "0",
        "connectors-MIN_NUM_FORMS": "0",
        "connectors-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }

    response = english_client.post(reverse("admin:stations_station_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    station = Station.objects.get(charge_point_id="CP-NEW-1")
    assert (station.company, station.connection_state) == (company, "disconnected")


def test_the_session_list_drills_down_by_day(english_client, charging_session):
    day = timezone.localtime(charging_session.started_at)
    changelist = reverse("admin:stations_chargingsession_changelist")

    same_day = english_client.get(
        changelist,
        {"started_at__year": day.year, "started_at__month": day.month, "started_at__day": day.day},
    )
    other_year = english_client.get(changelist, {"started_at__year": day.year - 1})

    assert list(same_day.context["cl"].result_list) == [charging_session]
    assert list(other_year.context["cl"].result_list) == []


def test_a_station_shows_its_last_twenty_connections_and_how_each_ended(english_client, station):
    opened = timezone.now() - timedelta(days=1)
    for number in range(25):
        StationConnection.objects.create(
            station=station,
            connection_id=f"c{number}",
            opened_at=opened + timedelta(minutes=number),
            closed_at=opened + timedelta(minutes=number, seconds=30),
            close_reason="network" if number else "server_died",
            remote_address=f"192.0.2.{number}",
        )

    content = english_client.get(station_url(station)).content.decode()

    assert "Last connections" in content
    assert content.count("Network error") == 20
    assert "192.0.2.24" in content and "192.0.2.5" in content
    assert "192.0.2.4<" not in content  # the oldest are left out


def test_a_station_s_connections_read_in_french(french_client, station):
    StationConnection.objects.create(
        station=station,
        connection_id="c-fr",
        opened_at=timezone.now() - timedelta(minutes=5),
        closed_at=timezone.now(),
        close_reason="server_died",
    )

    content = french_client.get(station_url(station)).content.decode()

    assert "Dernières connexions" in content
    assert "Processus serveur disparu" in content
    assert "Dernière adresse" in content

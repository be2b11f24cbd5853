"""The portal's pages through the Django test client: access, company scoping, figures."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from badges.models import BadgeUsage
from ocpp_gateway.admin import new_badge_url
from ocpp_gateway.models import Direction, LogStatus, MessageType, OcppMessage
from portal.selectors import local_midnight
from stations.enrolment import authorization_request
from stations.models import ConnectionState, Station
from stations.services import session_start, session_stop
from tests.factories import BadgeFactory, VehicleFactory
from tests.portal.conftest import Fleet

pytestmark = pytest.mark.django_db


def charge(fleet: Fleet, *, energy_wh: int, started_at=None, badge=None, stop: bool = True):
    """A session of ``badge`` (the fleet's) at the fleet's station, through the services."""
    now = timezone.now()
    # Within the local today, whatever the hour the tests run (reports default to today).
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    started_at = started_at or max(now - timedelta(hours=1), midnight + (now - midnight) / 2)
    session, decision = session_start(
        station=fleet.station,
        connector_id=1,
        id_tag=(badge or fleet.badge).rfid,
        meter_start=10_000,
        started_at=started_at,
    )
    assert decision.accepted
    if stop:
        session_stop(
            station=fleet.station,
            transaction_id=session.pk,
            meter_stop=10_000 + energy_wh,
            stopped_at=min(started_at + timedelta(minutes=30), now),
        )
    return session


# --- Access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["portal:dashboard", "portal:station-list", "portal:vehicle-list", "portal:report"]
)
def test_pages_send_anonymous_visitors_to_the_portal_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login") + "?next=")


def test_staff_signs_in_on_the_portal_login_page_and_lands_on_the_dashboard(client, alpha_staff):
    response = client.post(reverse("portal:login"), {"username": "alice", "password": "x"})

    assert response.status_code == 302
    assert response.url == reverse("portal:dashboard")


def test_an_account_without_staff_status_cannot_sign_in(client, db):
    get_user_model().objects.create_user(username="bob", password="x")

    response = client.post(reverse("portal:login"), {"username": "bob", "password": "x"})

    assert response.status_code == 200
    assert "staff account" in response.content.decode()


def test_a_page_needs_the_model_permission_it_reads(client, alpha_staff):
    alpha_staff.user_permissions.clear()
    client.force_login(alpha_staff)

    assert client.get(reverse("portal:dashboard")).status_code == 200
    assert client.get(reverse("portal:vehicle-list")).status_code == 403
    assert client.get(reverse("portal:report")).status_code == 403


# --- Dashboard ------------------------------------------------------------------------------


def test_dashboard_counts_only_the_staff_members_company(alpha_client, alpha, beta):
    Station.objects.filter(pk__in=[alpha.station.pk, beta.station.pk]).update(
        connection_state=ConnectionState.CONNECTED
    )
    charge(alpha, energy_wh=7_500)
    charge(alpha, energy_wh=0, stop=False)
    charge(beta, energy_wh=50_000)
    authorization_request(id_tag="VID:A014310E0ABC", station=alpha.station)
    authorization_request(id_tag="VID:A014310E0DEF", station=beta.station)

    dashboard = alpha_client.get(reverse("portal:dashboard")).context["dashboard"]

    assert (dashboard.stations_online, dashboard.stations_total) == (1, 1)
    assert [session.station for session in dashboard.charging] == [alpha.station]
    assert (dashboard.autocharge_sessions_today, dashboard.autocharge_energy_today_wh) == (
        2,
        7_500,
    )
    assert [refusal.id_tag for refusal in dashboard.refusals_today] == ["VID:A014310E0ABC"]
    assert [entry.mac for entry in dashboard.unknown_vehicles] == ["A014310E0ABC"]


def test_dashboard_page_has_a_title_and_empty_states(alpha_client):
    page = alpha_client.get(reverse("portal:dashboard")).content.decode()

    assert "<title>Dashboard · Autocharge supervision</title>" in page
    assert "No vehicle is charging right now." in page
    assert "No vehicle was refused." in page


def test_a_refusal_of_an_unknown_vehicle_links_to_the_pre_filled_badge_form(alpha_client, alpha):
    authorization_request(id_tag="vid:a0:14:31:0e:0a:bc", station=alpha.station)

    page = alpha_client.get(reverse("portal:dashboard")).content.decode()

    assert new_badge_url("VID:A014310E0ABC").replace("&", "&amp;") in page


def test_the_dashboard_is_in_french_for_a_french_browser(alpha_client):
    page = alpha_client.get(reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE="fr").content
    page = page.decode()

    assert '<html lang="fr">' in page
    assert "<title>Tableau de bord · Supervision Autocharge</title>" in page


# --- Stations -------------------------------------------------------------------------------


def test_station_list_shows_live_status_and_only_the_companys_stations(alpha_client, alpha, beta):
    Station.objects.filter(pk=alpha.station.pk).update(connection_state=ConnectionState.CONNECTED)

    response = alpha_client.get(reverse("portal:station-list"))

    assert list(response.context["station_list"]) == [alpha.station]
    assert 'data-testid="connection-CP-ALPHA">Connected<' in response.content.decode()


def test_another_companys_station_page_does_not_exist(alpha_client, beta):
    response = alpha_client.get(reverse("portal:station-detail", args=[beta.station.pk]))

    assert response.status_code == 404


def test_station_page_says_which_protocol_the_station_speaks(alpha_client, alpha):
    Station.objects.filter(pk=alpha.station.pk).update(ocpp_version="2.0.1")

    page = alpha_client.get(reverse("portal:station-detail", args=[alpha.station.pk]))

    assert "<dt>Protocol</dt><dd>OCPP 2.0.1</dd>" in page.content.decode()


def log(station, *, action: str, status: str = "", id_tag: str = "", reason: str = ""):
    return OcppMessage.objects.create(
        station=station,
        charge_point_id=station.charge_point_id,
        direction=Direction.IN,
        message_type=MessageType.CALL,
        action=action,
        status=status,
        id_tag=id_tag,
        reason=reason,
        payload={"idTag": id_tag} if id_tag else {},
        created_at=timezone.now(),
    )


def test_station_log_filters_by_action_status_and_tag(alpha_client, alpha):
    log(alpha.station, action="Heartbeat")
    refused = log(
        alpha.station,
        action="Authorize",
        status=LogStatus.REJECTED,
        id_tag="VID:A014310E0ABC",
        reason="unknown_badge",
    )
    log(alpha.station, action="Authorize", status=LogStatus.ACCEPTED, id_tag=alpha.badge.rfid)
    url = reverse("portal:station-detail", args=[alpha.station.pk])

    everything = alpha_client.get(url).context["log_page"]
    filtered = alpha_client.get(
        url, {"action": "Authorize", "status": "Rejected", "id_tag": "0abc"}
    )

    assert len(everything.object_list) == 3
    assert list(filtered.context["log_page"].object_list) == [refused]
    assert "Create badge" in filtered.content.decode()


def test_a_log_entry_whose_badge_exists_now_links_to_the_badge(alpha_client, alpha):
    log(
        alpha.station,
        action="Authorize",
        status=LogStatus.REJECTED,
        id_tag=alpha.badge.rfid,
        reason="unknown_badge",
    )

    page = alpha_client.get(reverse("portal:station-detail", args=[alpha.station.pk]))

    assert reverse("admin:badges_badge_change", args=[alpha.badge.pk]) in page.content.decode()
    assert "Create badge" not in page.content.decode()


# --- Vehicles -------------------------------------------------------------------------------


def test_vehicle_list_shows_each_vehicles_last_session(alpha_client, alpha):
    charge(alpha, energy_wh=4_000, started_at=timezone.now() - timedelta(days=2))
    charge(alpha, energy_wh=9_000, started_at=timezone.now() - timedelta(hours=2))
    idle = VehicleFactory(company=alpha.company, license_plate="ALPHA-2")

    vehicles = {
        v.license_plate: v
        for v in alpha_client.get(reverse("portal:vehicle-list")).context["vehicle_list"]
    }

    assert vehicles["ALPHA-1"].last_session_energy_wh == 9_000
    assert vehicles[idle.license_plate].last_session_at is None


def test_vehicle_charts_hold_the_energy_of_its_sessions_per_day_and_month(alpha_client, alpha):
    today = timezone.localdate()
    noon = local_midnight(today) + timedelta(hours=12)
    charge(alpha, energy_wh=12_000, started_at=noon - timedelta(days=1))
    charge(alpha, energy_wh=3_000, started_at=noon - timedelta(days=1, hours=2))
    charge(alpha, energy_wh=5_000, started_at=noon - timedelta(days=3))

    context = alpha_client.get(reverse("portal:vehicle-detail", args=[alpha.vehicle.pk])).context

    per_day = {point.period: point.energy_wh for point in context["per_day"]}
    assert len(per_day) == 30
    assert per_day[today - timedelta(days=1)] == 15_000
    assert per_day[today - timedelta(days=3)] == 5_000
    assert sum(per_day.values()) == 20_000
    assert context["per_month"][-1].period == today.replace(day=1)
    assert sum(point.energy_wh for point in context["per_month"]) == 20_000
    bars = {bar.label: bar.value for bar in context["day_chart"].bars}
    assert bars[f"{today - timedelta(days=1):%d/%m}"] == 15.0


def test_vehicle_page_links_to_the_admin_for_the_vehicle_and_its_badges(alpha_client, alpha):
    page = alpha_client.get(reverse("portal:vehicle-detail", args=[alpha.vehicle.pk]))

    content = page.content.decode()
    assert reverse("admin:fleet_vehicle_change", args=[alpha.vehicle.pk]) in content
    assert reverse("admin:badges_badge_change", args=[alpha.badge.pk]) in content
    assert "This vehicle has not charged yet." in content


# --- Reports --------------------------------------------------------------------------------


@pytest.fixture
def month_of_charging(alpha, beta):
    """Alpha: 12 kWh + 3 kWh professional, 5 kWh personal (another vehicle), one refused start
    and one session before the period; Beta: 40 kWh."""
    personal = BadgeFactory(
        company=alpha.company,
        vehicle=VehicleFactory(company=alpha.company, license_plate="ALPHA-2"),
        rfid="VID:A014310E0077",
        usage=BadgeUsage.PERSONAL,
    )
    day = local_midnight(timezone.localdate().replace(day=1)) + timedelta(hours=10)
    charge(alpha, energy_wh=12_000, started_at=day)
    charge(alpha, energy_wh=3_000, started_at=day + timedelta(hours=2))
    charge(alpha, energy_wh=5_000, started_at=day + timedelta(hours=4), badge=personal)
    charge(alpha, energy_wh=99_000, started_at=day - timedelta(days=40))
    session_start(
        station=alpha.station,
        connector_id=2,
        id_tag="VID:A014310E0ABC",
        meter_start=0,
        started_at=day,
    )
    charge(beta, energy_wh=40_000, started_at=day)
    return {"start": day.date().isoformat(), "end": timezone.localdate().isoformat()}


def test_report_sums_energy_and_sessions_per_company_vehicle_and_usage(
    alpha_client, month_of_charging
):
    report = alpha_client.get(reverse("portal:report"), month_of_charging).context["report"]

    assert [
        (row["vehicle_plate"], row["usage"], row["sessions"], row["energy_wh"])
        for row in report.rows
    ] == [("ALPHA-1", "professional", 2, 15_000), ("ALPHA-2", "personal", 1, 5_000)]
    assert {row["usage"]: row["energy_wh"] for row in report.per_usage} == {
        "personal": 5_000,
        "professional": 15_000,
    }
    assert report.total == {"sessions": 3, "energy_wh": 20_000, "costs": []}


def test_report_csv_holds_the_rows_and_the_totals_per_usage(alpha_client, month_of_charging):
    response = alpha_client.get(reverse("portal:report-download", args=["csv"]), month_of_charging)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines == [
        ["Company", "Vehicle", "Usage", "Sessions", "Energy (kWh)", "Cost", "Currency"],
        ["Alpha", "ALPHA-1", "Professional", "2", "15.000", "", ""],
        ["Alpha", "ALPHA-2", "Personal", "1", "5.000", "", ""],
        ["Total", "", "Personal", "1", "5.000", "", ""],
        ["Total", "", "Professional", "2", "15.000", "", ""],
        ["Total", "", "All usages", "3", "20.000", "", ""],
    ]


def test_report_excel_holds_the_same_figures_as_numbers(alpha_client, month_of_charging):
    response = alpha_client.get(reverse("portal:report-download", args=["xlsx"]), month_of_charging)

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[1] == ["Alpha", "ALPHA-1", "Professional", 2, 15, None, None]
    assert rows[-1] == ["Total", None, "All usages", 3, 20, None, None]


def test_a_name_that_looks_like_a_formula_stays_text_in_the_downloads(alpha_client, alpha):
    alpha.company.name = "=HYPERLINK(1)"
    alpha.company.save()
    charge(alpha, energy_wh=1_000)
    period = {"start": timezone.localdate().isoformat(), "end": timezone.localdate().isoformat()}

    text = alpha_client.get(reverse("portal:report-download", args=["csv"]), period)
    excel = alpha_client.get(reverse("portal:report-download", args=["xlsx"]), period)

    assert text.content.decode().splitlines()[1].startswith("'=HYPERLINK(1),")
    cell = load_workbook(io.BytesIO(excel.content)).active["A2"]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(1)", "s")


def test_a_period_that_ends_before_it_starts_is_explained(alpha_client):
    response = alpha_client.get(
        reverse("portal:report"), {"start": "2025-02-01", "end": "2025-01-01"}
    )

    assert "report" not in response.context
    assert "The period must start before it ends." in response.content.decode()


def test_a_download_with_a_bad_period_goes_back_to_the_report_page(alpha_client):
    response = alpha_client.get(reverse("portal:report-download", args=["csv"]), {"start": "x"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:report"))

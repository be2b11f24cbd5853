"""Costs in the portal: the report's cost per company, vehicle and usage, and a vehicle's
personal-use statement on its page and as CSV, Excel and PDF, in English and French."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from badges.models import BadgeUsage
from stations import tariffs
from stations.models import Tariff
from stations.services import session_start, session_stop
from tests.factories import BadgeFactory
from tests.portal.conftest import Fleet

pytestmark = pytest.mark.django_db

DAY = timezone.make_aware(datetime(2026, 2, 10, 9, 0))
PERIOD = {"start": "2026-02-01", "end": "2026-02-28"}


def charge(fleet: Fleet, badge, *, energy_wh: int, started_at) -> None:
    session, decision = session_start(
        station=fleet.station,
        connector_id=1,
        id_tag=badge.rfid,
        meter_start=0,
        started_at=started_at,
    )
    assert decision.accepted
    session_stop(
        station=fleet.station,
        transaction_id=session.pk,
        meter_stop=energy_wh,
        stopped_at=started_at + timedelta(minutes=30),
    )


@pytest.fixture
def personal_badge(alpha):
    return BadgeFactory(
        company=alpha.company,
        vehicle=alpha.vehicle,
        usage=BadgeUsage.PERSONAL,
        rfid="VID:A014310E0A01",
    )


@pytest.fixture
def charged(alpha, beta, personal_badge):
    """Alpha at 0.20 EUR/kWh + 0.50 a session: 10 kWh professional (2.50), then 12.5 and
    7.5 kWh personal (3.00 and 2.00); Beta charges with no tariff."""
    tariffs.tariff_save(
        tariff=Tariff(
            company=alpha.company,
            price_per_kwh=Decimal("0.20"),
            session_fee=Decimal("0.50"),
            valid_from=DAY - timedelta(days=30),
        )
    )
    charge(alpha, alpha.badge, energy_wh=10_000, started_at=DAY)
    charge(alpha, personal_badge, energy_wh=12_500, started_at=DAY + timedelta(hours=2))
    charge(alpha, personal_badge, energy_wh=7_500, started_at=DAY + timedelta(days=3))
    charge(beta, beta.badge, energy_wh=4_000, started_at=DAY)


def test_the_report_sums_costs_per_company_vehicle_and_usage(admin_client, charged):
    report = admin_client.get(reverse("portal:report"), PERIOD).context["report"]

    assert [(row["company_name"], row["usage"], row["costs"]) for row in report.rows] == [
        ("Alpha", "personal", [("EUR", Decimal("5.00"))]),
        ("Alpha", "professional", [("EUR", Decimal("2.50"))]),
        ("Beta", "professional", []),
    ]
    assert {row["usage"]: row["costs"] for row in report.per_usage} == {
        "personal": [("EUR", Decimal("5.00"))],
        "professional": [("EUR", Decimal("2.50"))],
    }
    assert report.total["costs"] == [("EUR", Decimal("7.50"))]


def test_the_report_page_in_french_shows_costs_with_a_decimal_comma(alpha_client, charged):
    response = alpha_client.get(reverse("portal:report"), PERIOD, HTTP_ACCEPT_LANGUAGE="fr")

    page = response.content.decode()
    assert "Coût" in page
    assert "5,00 EUR" in page and "7,50 EUR" in page
    assert "Relevé d’usage personnel d’un véhicule" in page


def test_the_report_csv_and_excel_carry_the_cost_and_currency(alpha_client, charged):
    text = alpha_client.get(reverse("portal:report-download", args=["csv"]), PERIOD)
    rows = list(csv.reader(io.StringIO(text.content.decode())))
    assert rows[0][-2:] == ["Cost", "Currency"]
    assert rows[1][2:] == ["Personal", "2", "20.000", "5.00", "EUR"]
    assert rows[-1][2:] == ["All usages", "3", "30.000", "7.50", "EUR"]

    excel = alpha_client.get(reverse("portal:report-download", args=["xlsx"]), PERIOD)
    sheet = load_workbook(io.BytesIO(excel.content)).active
    last = [cell for cell in next(sheet.iter_rows(min_row=sheet.max_row, values_only=True))]
    assert last[-2:] == [7.5, "EUR"]


def statement_query(fleet: Fleet) -> dict:
    return {"vehicle": fleet.vehicle.pk, **PERIOD}


def test_the_statement_page_lists_personal_sessions_with_their_cost(alpha_client, alpha, charged):
    response = alpha_client.get(reverse("portal:statement"), statement_query(alpha))

    statement = response.context["statement"]
    assert [session.cost for session in statement.sessions] == [Decimal("3.00"), Decimal("2.00")]
    assert (statement.energy_wh, statement.costs, statement.unpriced) == (
        20_000,
        {"EUR": Decimal("5.00")},
        0,
    )
    page = response.content.decode()
    assert "ALPHA-1" in page and "5.00 EUR" in page


def test_the_statement_page_is_in_french(alpha_client, alpha, charged):
    response = alpha_client.get(
        reverse("portal:statement"), statement_query(alpha), HTTP_ACCEPT_LANGUAGE="fr"
    )

    page = response.content.decode()
    assert "Relevé d’usage personnel" in page
    assert "Total, 2 sessions" in page
    assert "3,00 EUR" in page and "5,00 EUR" in page
    assert "Télécharger en PDF" in page


def test_the_statement_page_starts_on_this_month_without_a_vehicle(alpha_client):
    response = alpha_client.get(reverse("portal:statement"))

    assert response.status_code == 200
    assert "statement" not in response.context


def test_another_companys_vehicle_is_no_choice(alpha_client, beta, charged):
    response = alpha_client.get(reverse("portal:statement"), statement_query(beta))
    assert "statement" not in response.context
    assert response.context["form"].errors["vehicle"]

    download = alpha_client.get(
        reverse("portal:statement-download", args=["pdf"]), statement_query(beta)
    )
    assert download.status_code == 302


def test_the_statement_csv(alpha_client, alpha, charged):
    response = alpha_client.get(
        reverse("portal:statement-download", args=["csv"]), statement_query(alpha)
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="personal-use_ALPHA-1_2026-02-01_2026-02-28.csv"'
        in response["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["Vehicle", "ALPHA-1"] in rows
    assert ["Total cost", "5.00 EUR"] in rows
    header = rows.index(["Started", "Station", "Energy (kWh)", "Cost", "Currency"])
    assert [row[1:] for row in rows[header + 1 :]] == [
        ["CP-ALPHA", "12.500", "3.00", "EUR"],
        ["CP-ALPHA", "7.500", "2.00", "EUR"],
        ["", "20.000", "5.00", "EUR"],
    ]


def test_the_statement_excel_in_french(alpha_client, alpha, charged):
    response = alpha_client.get(
        reverse("portal:statement-download", args=["xlsx"]),
        statement_query(alpha),
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Relevé d’usage personnel"
    assert ["Véhicule", "ALPHA-1"] in [row[:2] for row in rows]
    header = [row[:5] for row in rows].index(["Début", "Borne", "Énergie (kWh)", "Coût", "Devise"])
    lines = rows[header + 1 :]
    assert [line[2:5] for line in lines] == [[12.5, 3, "EUR"], [7.5, 2, "EUR"], [20, 5, "EUR"]]
    assert lines[-1][0] == "Total"


@pytest.mark.parametrize(
    ("language", "title", "total"),
    [("en", "Personal-use statement", "5.00 EUR"), ("fr", "Relevé d’usage personnel", "5,00 EUR")],
)
def test_the_statement_pdf_holds_the_plate_and_total(
    alpha_client, alpha, charged, language, title, total
):
    response = alpha_client.get(
        reverse("portal:statement-download", args=["pdf"]),
        statement_query(alpha),
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert title in text
    assert "ALPHA-1" in text
    assert total in text


def test_a_session_without_tariff_shows_a_dash_and_counts_as_unpriced(alpha_client, alpha):
    badge = BadgeFactory(
        company=alpha.company,
        vehicle=alpha.vehicle,
        usage=BadgeUsage.PERSONAL,
        rfid="VID:A014310E0A02",
    )
    charge(alpha, badge, energy_wh=1_000, started_at=DAY)

    response = alpha_client.get(reverse("portal:statement"), statement_query(alpha))

    assert response.context["statement"].unpriced == 1
    assert "1 session has no cost" in response.content.decode()
    assert "—" in response.content.decode()


def test_the_vehicle_page_links_to_its_statement_of_this_month(alpha_client, alpha):
    page = alpha_client.get(reverse("portal:vehicle-detail", args=[alpha.vehicle.pk]))
    link = f"{reverse('portal:statement')}?vehicle={alpha.vehicle.pk}"
    assert link in page.content.decode()

    statement = alpha_client.get(link).context["statement"]

    today = timezone.localdate()
    assert (statement.vehicle, statement.start, statement.end) == (
        alpha.vehicle,
        today.replace(day=1),
        today,
    )

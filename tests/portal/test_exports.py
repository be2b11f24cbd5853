"""The report's downloads hold no formula, however a vehicle or company name hides one: checked
on the bytes served, read as a spreadsheet would (CSV with either separator, the xlsx's XML)."""

import csv
import io
import re
import unicodedata
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.portal.test_pages import charge

pytestmark = pytest.mark.django_db

# Upper case and at most 20 characters, as licence plates are.
HIDDEN_FORMULAS = [
    '\n=HYPERLINK("X.IO")',
    "\t=1+1",
    " \r@SUM(A1)",
    "\x00-2+3",
    "\x1f-2+3",
    "\u00a0=1+1",  # no-break space
    "\u2003+CMD|' /C CALC'!A0",  # em space
    "\u3000=1",  # ideographic space
    "\u200b=1",  # zero-width space
    "\ufeff@A1",  # byte-order mark
    "OK\n=1+1",  # a row of its own to a reader that does not honour the quotes
    "OK;=1+1",  # a cell of its own to a reader that splits on ";"
    "OK, -2+3",
]
FORMULA_SIGNS = "=+-@"


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    return client


def today() -> dict[str, str]:
    return {"start": timezone.localdate().isoformat(), "end": timezone.localdate().isoformat()}


def download(client: Client, extension: str, **headers) -> bytes:
    response = client.get(reverse("portal:report-download", args=[extension]), today(), **headers)
    assert response.status_code == 200
    return response.content


def cells_starting_with_a_formula(text: str) -> list[str]:
    """What a spreadsheet takes for formulas, whether it reads the file with ",", with ";" or
    line by line ignoring the quotes: every piece between separators, line breaks and quotes,
    blanks (and the byte-order mark, zero-width spaces) skipped."""
    pieces = re.split(r'[,;\t\r\n"]', text)
    return [
        piece
        for piece in pieces
        if piece.lstrip(" \u00a0\u2003\u3000\u200b\ufeff")[:1] in set(FORMULA_SIGNS)
    ]


@pytest.fixture(params=HIDDEN_FORMULAS)
def hidden_formula(request):
    if "\x00" in request.param and connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses NUL in text, so no name can hold it there")
    return request.param


def test_no_cell_of_the_csv_starts_a_formula_whatever_precedes_it(
    superuser_client, alpha, beta, hidden_formula
):
    alpha.vehicle.license_plate = hidden_formula
    alpha.vehicle.save()
    beta.company.name = hidden_formula
    beta.company.save()
    charge(alpha, energy_wh=1_000)
    charge(beta, energy_wh=2_000)

    text = download(superuser_client, "csv").decode()

    assert cells_starting_with_a_formula(text) == []
    # The names are still there: only control characters became spaces, and quotes were added.
    shown = "".join(" " if unicodedata.category(c) == "Cc" else c for c in hidden_formula)
    rows = list(csv.reader(io.StringIO(text)))
    alpha_plate = next(row[1] for row in rows if row[0] == "Alpha")
    beta_company = next(row[0] for row in rows if row[1] == "BETA-1")
    assert alpha_plate.replace("'", "") == beta_company.replace("'", "") == shown.replace("'", "")


def test_excel_cells_hold_the_names_as_strings_never_formulas(
    superuser_client, alpha, hidden_formula
):
    alpha.vehicle.license_plate = hidden_formula
    alpha.vehicle.save()
    alpha.company.name = hidden_formula
    alpha.company.save()
    charge(alpha, energy_wh=1_000)

    content = download(superuser_client, "xlsx")

    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        sheet_xml = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    row = next(load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2, max_row=2))
    assert [cell.data_type for cell in row[:3]] == ["s", "s", "s"]
    # Without what XML cannot hold; a carriage return reads back as a line feed (XML's rule).
    kept = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", hidden_formula).replace("\r", "\n")
    assert row[1].value == kept


def test_ordinary_names_are_untouched(alpha_client, alpha):
    alpha.vehicle.license_plate = "AB-123-CD"
    alpha.vehicle.save()
    alpha.company.name = "Dupont & Fils, Lyon"
    alpha.company.save()
    charge(alpha, energy_wh=1_000)

    rows = list(csv.reader(io.StringIO(download(alpha_client, "csv").decode())))

    assert rows[1][:2] == ["Dupont & Fils, Lyon", "AB-123-CD"]


def test_the_french_csv_is_neutralised_too(alpha_client, alpha):
    alpha.vehicle.license_plate = "\n=1+1"
    alpha.vehicle.save()
    charge(alpha, energy_wh=1_000)

    text = download(alpha_client, "csv", HTTP_ACCEPT_LANGUAGE="fr").decode()

    assert text.splitlines()[0].startswith("\ufeffEntreprise;Véhicule")
    assert cells_starting_with_a_formula(text) == []


# --- The reader's convention ----------------------------------------------------------------


def read_csv(content: bytes, delimiter: str) -> list[list[str]]:
    """As a spreadsheet set for ``delimiter`` reads it ("utf-8-sig": the byte-order mark is
    the encoding's, not the first cell's)."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


@pytest.fixture
def twelve_kwh(alpha):
    charge(alpha, energy_wh=12_345)


def test_a_french_reader_gets_semicolons_decimal_commas_and_a_byte_order_mark(
    alpha_client, twelve_kwh
):
    content = download(alpha_client, "csv", HTTP_ACCEPT_LANGUAGE="fr")

    assert content.startswith("\ufeff".encode())
    rows = read_csv(content, ";")
    assert rows[0] == [
        "Entreprise",
        "Véhicule",
        "Usage",
        "Sessions",
        "Énergie (kWh)",
        "Coût",
        "Devise",
    ]
    assert rows[1] == ["Alpha", "ALPHA-1", "Professionnel", "1", "12,345", "", ""]
    assert rows[-1][4] == "12,345"


def test_an_english_reader_gets_commas_and_no_byte_order_mark(alpha_client, twelve_kwh):
    content = download(alpha_client, "csv", HTTP_ACCEPT_LANGUAGE="en")

    assert not content.startswith("\ufeff".encode())
    rows = read_csv(content, ",")
    assert rows[1] == ["Alpha", "ALPHA-1", "Professional", "1", "12.345", "", ""]


@pytest.mark.parametrize(
    ("language", "separator", "delimiter", "energy", "byte_order_mark"),
    [
        ("fr", "comma", ",", "12.345", False),
        ("en", "semicolon", ";", "12,345", True),
        ("fr", "tab", ";", "12,345", True),  # unknown: the language's convention
        ("en", "", ",", "12.345", False),
    ],
)
def test_the_separator_chosen_on_the_page_wins_over_the_language(
    alpha_client, twelve_kwh, language, separator, delimiter, energy, byte_order_mark
):
    response = alpha_client.get(
        reverse("portal:report-download", args=["csv"]),
        {**today(), "separator": separator},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode()) is byte_order_mark
    rows = read_csv(response.content, delimiter)
    assert len(rows[1]) == 7
    assert rows[1][4] == energy


def test_the_report_page_offers_the_separator_with_the_readers_one_chosen(alpha_client, twelve_kwh):
    french = alpha_client.get(reverse("portal:report"), today(), HTTP_ACCEPT_LANGUAGE="fr")
    english = alpha_client.get(reverse("portal:report"), today(), HTTP_ACCEPT_LANGUAGE="en")

    page = french.content.decode()
    assert f'action="{reverse("portal:report-download", args=["csv"])}"' in page
    assert '<option value="semicolon" selected>Excel en français (;)</option>' in page
    assert '<option value="comma">Anglais, autres logiciels (,)</option>' in page
    for name, value in today().items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in page
    assert '<option value="comma" selected>English, other software (,)</option>' in (
        english.content.decode()
    )

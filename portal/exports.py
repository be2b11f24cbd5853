"""A report as CSV or Excel: the same table, per company, vehicle and usage, then the totals
per usage and the grand total, in the viewer's language. CSV follows the reader's convention:
French spreadsheets split on ";", read decimal commas, and garble accents without a byte-order
mark; English ones split on ","."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from badges.models import BadgeUsage
from portal.selectors import Report

# A cell starting with one of these is a formula to a spreadsheet: a vehicle named
# "=HYPERLINK(…)" must stay text (CSV injection). Spreadsheets skip blanks before it, and one
# that reads the file with another separator (French ones take ";") starts a cell after any
# "," or ";" and a row after any line break, quoted or not.
_FORMULA_SIGNS = frozenset("=+-@")
_SEPARATORS = frozenset(",;")


@dataclass(frozen=True)
class CsvConvention:
    label: str
    delimiter: str
    decimal_mark: str
    byte_order_mark: bool


CSV_CONVENTIONS = {
    "semicolon": CsvConvention(
        label=gettext_lazy("French Excel (;)"),
        delimiter=";",
        decimal_mark=",",
        byte_order_mark=True,
    ),
    "comma": CsvConvention(
        label=gettext_lazy("English, other software (,)"),
        delimiter=",",
        decimal_mark=".",
        byte_order_mark=False,
    ),
}


def csv_convention_for(language: str | None) -> str:
    """The convention a reader of ``language`` expects by default."""
    return "semicolon" if (language or "").startswith("fr") else "comma"


def usage_label(usage: str | None) -> str:
    return str(BadgeUsage(usage).label) if usage else _("No badge (open-charge)")


def costs_text(amounts: list[tuple[str, Decimal]], *, localized: bool = False) -> str:
    """Amounts per currency as one text ("12.50 EUR + 3.00 CHF"); a dash for none. ``localized``:
    in the page's number format (a decimal comma in French)."""
    if not amounts:
        return "—"
    return " + ".join(
        f"{number_format(amount, decimal_pos=2) if localized else amount} {currency}"
        for currency, amount in amounts
    )


def _cost_cells(amounts: list[tuple[str, Decimal]]) -> list:
    """The cost and currency columns: a number and its code; a text when several currencies
    add up in one row (mixed tariffs), empty without a cost."""
    if not amounts:
        return [None, ""]
    if len(amounts) == 1:
        currency, amount = amounts[0]
        return [amount, currency]
    return [costs_text(amounts), ""]


def kwh(energy_wh: int) -> Decimal:
    return (Decimal(energy_wh) / 1000).quantize(Decimal("0.001"))


def _is_blank(character: str) -> bool:
    """Whitespace (Unicode's too: no-break, em, ideographic spaces…) or an invisible format
    character (zero-width space, byte-order mark…)."""
    return character.isspace() or unicodedata.category(character) == "Cf"


def _csv_cell(value):
    """Text that every spreadsheet reads as text, whatever separator it assumes: control
    characters (line breaks, tabs, NUL…) become spaces, and a quote goes before each formula
    sign that could start a cell (the first visible character, or the first after a
    separator)."""
    if not isinstance(value, str):
        return value
    cell = []
    may_start_a_cell = True
    for character in value:
        if unicodedata.category(character) == "Cc":
            character = " "
        if may_start_a_cell and character in _FORMULA_SIGNS:
            cell.append("'")
        cell.append(character)
        if character in _SEPARATORS:
            may_start_a_cell = True
        elif not _is_blank(character):
            may_start_a_cell = False
    return "".join(cell)


def _xlsx_text(value):
    """Excel's strings are never formulas (the cell's type says so, see ``as_xlsx``), but it
    refuses the control characters XML cannot hold: those are left out."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _header() -> list[str]:
    return [
        _("Company"),
        _("Vehicle"),
        _("Usage"),
        _("Sessions"),
        _("Energy (kWh)"),
        _("Cost"),
        _("Currency"),
    ]


def _lines(report: Report) -> Iterator[tuple[list, bool]]:
    """Each line of the table, and whether it is a total."""
    for row in report.rows:
        yield (
            [
                row["company_name"],
                row["vehicle_plate"],
                usage_label(row["usage"]),
                row["sessions"],
                kwh(row["energy_wh"]),
                *_cost_cells(row["costs"]),
            ],
            False,
        )
    totals = [(usage_label(row["usage"]), row) for row in report.per_usage]
    totals.append((_("All usages"), report.total))
    for label, row in totals:
        yield (
            [
                _("Total"),
                "",
                label,
                row["sessions"],
                kwh(row["energy_wh"]),
                *_cost_cells(row["costs"]),
            ],
            True,
        )


def filename(report: Report, extension: str) -> str:
    return f"energy-report_{report.start.isoformat()}_{report.end.isoformat()}.{extension}"


def csv_bytes(rows, convention: str = "comma") -> bytes:
    """``rows`` as CSV in the reader's ``convention`` (``CSV_CONVENTIONS``): its separator and
    decimal mark, UTF-8 with a byte-order mark where it wants one; text neutralised
    (``_csv_cell``)."""
    rules = CSV_CONVENTIONS[convention]

    def cell(value):
        if isinstance(value, Decimal):
            return str(value).replace(".", rules.decimal_mark)
        return _csv_cell(value)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=rules.delimiter)
    writer.writerows([cell(value) for value in row] for row in rows)
    return ("\ufeff" if rules.byte_order_mark else "").encode() + out.getvalue().encode()


def as_csv(report: Report, convention: str = "comma") -> bytes:
    return csv_bytes([_header(), *(line for line, _total in _lines(report))], convention)


def as_xlsx(report: Report) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Energy report")
    sheet.append(_header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line, is_total in _lines(report):
        sheet.append([_xlsx_text(value) for value in line])
        row = sheet[sheet.max_row]
        row[4].number_format = "0.000"
        row[5].number_format = "0.00"
        for cell in row[:3]:
            cell.data_type = "s"  # never a formula, whatever the text starts with
        if is_total:
            for cell in row:
                cell.font = Font(bold=True)
    for column, width in zip("ABCDEFG", (28, 18, 26, 10, 14, 14, 10), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

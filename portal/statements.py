"""A vehicle's personal-use statement as CSV, Excel or PDF, in the viewer's language: one line per
session (start, station, energy, cost), then the totals. What the company charges back to the
driver or reimburses; the figures are those ``stations.tariffs.personal_use_statement`` read.

The PDF is drawn by ReportLab: maintained, pure Python once installed, and its standard fonts
carry French text (accents, €, dashes) with no font file to ship."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html import escape

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.exports import _xlsx_text, costs_text, csv_bytes, kwh
from stations.tariffs import Statement


def _started(session) -> str:
    return date_format(timezone.localtime(session.started_at), "SHORT_DATETIME_FORMAT")


def _header() -> list[str]:
    return [_("Started"), _("Station"), _("Energy (kWh)"), _("Cost"), _("Currency")]


def _lines(statement: Statement) -> list[list]:
    return [
        [
            _started(session),
            session.station.charge_point_id,
            None if session.energy_wh is None else kwh(session.energy_wh),
            session.cost,
            session.cost_currency,
        ]
        for session in statement.sessions
    ]


def _summary(statement: Statement, *, localized: bool = False) -> list[tuple[str, str]]:
    """The heading facts and totals, label and value, as text; ``localized``: numbers in the
    reader's format (the PDF), else as the spreadsheets' cells (numbers as numbers)."""
    energy = (
        number_format(statement.energy_wh / 1000, decimal_pos=3)
        if localized
        else kwh(statement.energy_wh)
    )
    vehicle = statement.vehicle
    return [
        (_("Vehicle"), vehicle.license_plate),
        (_("Company"), vehicle.company.name),
        (
            _("Period"),
            _("From %(start)s to %(end)s")
            % {
                "start": date_format(statement.start, "SHORT_DATE_FORMAT"),
                "end": date_format(statement.end, "SHORT_DATE_FORMAT"),
            },
        ),
        (_("Sessions"), str(len(statement.sessions))),
        (_("Total energy (kWh)"), energy),
        (_("Total cost"), costs_text(statement.cost_list, localized=localized)),
        (_("Sessions without a cost"), str(statement.unpriced)),
    ]


def filename(statement: Statement, extension: str) -> str:
    plate = re.sub(r"[^A-Za-z0-9-]+", "_", statement.vehicle.license_plate) or "vehicle"
    return (
        f"personal-use_{plate}_{statement.start.isoformat()}_{statement.end.isoformat()}"
        f".{extension}"
    )


def as_csv(statement: Statement, convention: str = "comma") -> bytes:
    totals = [
        [_("Total"), "", kwh(statement.energy_wh), amount, currency]
        for currency, amount in statement.cost_list
    ] or [[_("Total"), "", kwh(statement.energy_wh), "", ""]]
    return csv_bytes(
        [
            [_("Personal-use statement")],
            *([label, value] for label, value in _summary(statement)),
            [],
            _header(),
            *_lines(statement),
            *totals,
        ],
        convention,
    )


def as_xlsx(statement: Statement) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Personal use")[:31]
    sheet.append([_("Personal-use statement")])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in _summary(statement):
        sheet.append([label, _xlsx_text(value)])
        if isinstance(value, str):
            sheet.cell(row=sheet.max_row, column=2).data_type = "s"
    sheet.append([])
    sheet.append(_header())
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for line in _lines(statement):
        sheet.append([_xlsx_text(value) for value in line])
        row = sheet[sheet.max_row]
        row[1].data_type = "s"  # a station id is never a formula
        row[2].number_format = "0.000"
        row[3].number_format = "0.00"
    totals = statement.cost_list or [("", None)]
    for currency, amount in totals:
        sheet.append([_("Total"), None, kwh(statement.energy_wh), amount, currency])
        row = sheet[sheet.max_row]
        row[2].number_format = "0.000"
        row[3].number_format = "0.00"
        for cell in row:
            cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (24, 24, 14, 12, 10), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _money(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None else f"{number_format(amount, decimal_pos=2)} {currency}"


def as_pdf(statement: Statement) -> bytes:
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("Personal-use statement"),
        author=statement.vehicle.company.name,
    )
    styles = getSampleStyleSheet()
    text = styles["BodyText"]
    story = [Paragraph(_("Personal-use statement"), styles["Title"])]
    summary = Table(
        [
            [Paragraph(escape(label), text), Paragraph(escape(value), text)]
            for label, value in _summary(statement, localized=True)
        ],
        colWidths=[55 * mm, 110 * mm],
        hAlign="LEFT",
    )
    story += [summary, Spacer(1, 6 * mm)]
    rows = [_header()[:4]]  # the cost carries its currency
    for session in statement.sessions:
        rows.append(
            [
                _started(session),
                Paragraph(escape(session.station.charge_point_id), text),
                "—" if session.energy_wh is None else number_format(session.energy_wh / 1000, 3),
                _money(session.cost, session.cost_currency),
            ]
        )
    rows.append(
        [
            _("Total"),
            "",
            number_format(statement.energy_wh / 1000, 3),
            costs_text(statement.cost_list, localized=True),
        ]
    )
    table = Table(rows, colWidths=[40 * mm, 60 * mm, 30 * mm, 44 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("ALIGN", (2, 0), (3, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(table)
    document.build(story)
    return out.getvalue()

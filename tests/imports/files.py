"""Import files as fleet managers make them: CSV (``,`` or French Excel's ``;`` with a BOM)
or Excel, from a header and rows."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

VEHICLE_HEADERS = ["company", "license_plate", "make", "model", "charging_priority", "active"]
BADGE_HEADERS = ["rfid", "visual_number", "company", "vehicle_plate", "usage", "groups"]


def plate(number: int) -> str:
    return f"GH-{number:03d}-JK"


def mac(number: int) -> str:
    # A unicast, factory-assigned MAC per vehicle (first octet A0: bits 0 and 1 clear).
    return f"A0:14:31:0F:{number // 256:02X}:{number % 256:02X}"


def vehicle_rows(company: str, count: int = 300) -> list[list]:
    return [
        [company, plate(n).lower(), "Renault", "Kangoo E-Tech", n % 3 + 1, "oui"]
        for n in range(1, count + 1)
    ]


def badge_rows(company: str, count: int = 300) -> list[list]:
    # Stations and people write MACs every which way: lowercase, with separators.
    return [
        [
            f"vid:{mac(n).lower()}",
            "",
            company,
            plate(n),
            "Personnel" if n % 2 else "professional",
            "",
        ]
        for n in range(1, count + 1)
    ]


def csv_file(headers, rows, *, french=False, name="import.csv") -> SimpleUploadedFile:
    text = io.StringIO()
    csv.writer(text, delimiter=";" if french else ",").writerows([headers, *rows])
    content = ("\ufeff" if french else "") + text.getvalue()
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def xlsx_file(headers, rows, *, name="import.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    for row in [headers, *rows]:
        sheet.append(row)
    content = io.BytesIO()
    book.save(content)
    return SimpleUploadedFile(name, content.getvalue())


def upload(file_format: str, headers, rows, **kwargs) -> SimpleUploadedFile:
    if file_format == "xlsx":
        return xlsx_file(headers, rows)
    return csv_file(headers, rows, **kwargs)

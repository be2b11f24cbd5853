"""Bulk imports of a company's records from CSV or Excel, on django-import-export.

django-import-export reads the files (tablib: CSV, and Excel through openpyxl), matches each
row with an existing object or a new one, validates it with the model's ``full_clean`` and runs
the whole file in one transaction, rolled back for a preview or when any row is wrong. What it
does not know, and this module adds for every import (the admin's and the API's alike):

- tenancy: a company user matches, updates and points at their company's records only
  (``supervision.tenancy``); a row naming another company's record is that row's error;
- all or nothing, always: one wrong row and nothing is written;
- a key (a plate, an RFID) twice in one file is an error, not a silent second update;
- the writes go through the apps' services (``save_through``), recorded in the change history
  as coming from an ``import``;
- CSV as French Excel writes it (``;``, a UTF-8 BOM) as well as with ``,``;
- cells as people type them: choices by their code or their label, in English or French;
  yes/no as oui/non.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext_lazy
from import_export import resources, widgets
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import RowResult

from supervision import archiving, tenancy
from supervision.history import ChangeSource, change_source

# A larger file is refused before any row is read: the preview holds every row in memory.
MAX_IMPORT_ROWS = 10_000


class AnyDelimiterCSV(CSV):
    """CSV with ``,`` or ``;`` (French Excel's), with or without a UTF-8 byte order mark."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode("utf-8-sig")
        in_stream = in_stream.removeprefix("\ufeff")
        header = in_stream.split("\n", 1)[0]
        delimiter = ";" if header.count(";") > header.count(",") else ","
        return tablib.import_set(in_stream, format="csv", delimiter=delimiter)


IMPORT_FORMATS = [AnyDelimiterCSV, XLSX]
FORMAT_OF_EXTENSION = {"csv": AnyDelimiterCSV, "xlsx": XLSX}


class ImportFileError(ValueError):
    """The file cannot be read as a table at all (no row is looked at)."""


def dataset_from_upload(upload) -> tablib.Dataset:
    """The table of an uploaded ``.csv`` or ``.xlsx`` file, or ImportFileError."""
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    file_format = FORMAT_OF_EXTENSION.get(extension)
    if file_format is None:
        raise ImportFileError(gettext("Send a .csv or .xlsx file."))
    try:
        dataset = file_format().create_dataset(upload.read())
    except Exception as error:  # tablib, csv, openpyxl and zipfile each raise their own
        raise ImportFileError(
            gettext("The file cannot be read as %(format)s: %(error)s")
            % {"format": extension.upper(), "error": error}
        ) from None
    if not dataset.headers or len(dataset) == 0:
        raise ImportFileError(gettext("The file has no rows under its column headers."))
    if len(dataset) > MAX_IMPORT_ROWS:
        raise ImportFileError(
            gettext("The file has %(count)d rows; import at most %(max)d at a time.")
            % {"count": len(dataset), "max": MAX_IMPORT_ROWS}
        )
    dataset.headers = [str(header or "").strip() for header in dataset.headers]
    return dataset


# --- Cells ------------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as text: Excel gives numbers (``42``, ``42.0``) where people typed digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return cell_text(value)


class ChoiceWidget(widgets.Widget):
    """A choice by its code (``personal``) or its label in any of the portal's languages
    (``Personnel``, ``Personal``), ignoring case; empty is the field's default."""

    def __init__(self, choices):
        super().__init__()
        self.choices = choices

    def _accepted(self) -> dict[str, str]:
        accepted = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                accepted.update({str(label).casefold(): value for value, label in self.choices})
        accepted.update({str(value).casefold(): value for value, _label in self.choices})
        return accepted

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        try:
            return self._accepted()[text.casefold()]
        except KeyError:
            labels = ", ".join(f"{value} ({label})" for value, label in self.choices)
            raise ValueError(
                gettext("“%(value)s” is not one of: %(choices)s.")
                % {"value": text, "choices": labels}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return value or ""


class YesNoWidget(widgets.Widget):
    """yes/no, oui/non, true/false, 1/0 (or an Excel boolean); empty is the field's default."""

    TRUE = {"yes", "oui", "true", "vrai", "1", "y", "o", "x"}
    FALSE = {"no", "non", "false", "faux", "0", "n"}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = cell_text(value).casefold()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(gettext("Write yes or no, not “%(value)s”.") % {"value": cell_text(value)})

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class DateTimeWidget(widgets.Widget):
    """A date and time as Excel gives it, or written ``2027-01-31 14:30`` or ``31/01/2027 14:30``
    (the time optional: midnight), in the portal's time zone; empty is none."""

    FORMATS = (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y",
    )

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        else:
            moment = self._parse(cell_text(value))
            if moment is None:
                return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def _parse(self, text: str) -> datetime | None:
        if not text:
            return None
        for pattern in self.FORMATS:
            try:
                # zoneinfo zones are attached as they are: the local time on that day.
                return datetime.strptime(text, pattern).replace(
                    tzinfo=timezone.get_current_timezone()
                )
            except ValueError:
                continue
        raise ValueError(
            gettext(
                "Write a date as 2027-01-31 or 31/01/2027, with a time if needed, not “%(value)s”."
            )
            % {"value": text}
        )

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class ScopedForeignKeyWidget(widgets.ForeignKeyWidget):
    """A related record named by ``field`` (a company's name, a vehicle's plate), among those
    the importing user sees and that are not archived. Another company's record is "not
    found", as one that does not exist: the file learns nothing about other companies."""

    user = None  # set by the resource, per import

    def __init__(self, model, field, *, normalize=str.strip, not_found=""):
        super().__init__(model, field=field)
        self.normalize = normalize
        self.not_found = not_found

    def get_queryset(self, value, row, *args, **kwargs):
        return archiving.unarchived(tenancy.scope(self.model._default_manager.all(), self.user))

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        matches = self.get_queryset(text, row).filter(
            **{f"{self.field}__iexact": self.normalize(text)}
        )
        found = matches.first()
        if found is None:
            raise ValueError(self.not_found % {"value": text})
        return found


# --- Resources ---------------------------------------------------------------------------------


class ScopedImportResource(resources.ModelResource):
    """An import for ``user``: subclasses name ``key_field`` (the column that says which object a
    row is, also the only ``import_id_fields``), ``normalize_key`` (how a key is compared:
    ``ft-123-er`` is ``FT-123-ER``) and ``save_through`` (the app's service)."""

    key_field = ""

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self._row_of_key: dict[str, int] = {}
        for resource_field in self.fields.values():
            if isinstance(resource_field.widget, ScopedForeignKeyWidget):
                resource_field.widget.user = user

    @classmethod
    def normalize_key(cls, value: str) -> str:
        return value

    def save_through(self, instance) -> None:
        raise NotImplementedError

    def get_queryset(self):
        # Rows are matched among the user's records only: another company's plate is a new
        # object, which its unique constraint then refuses.
        return tenancy.scope(super().get_queryset(), self.user)

    def import_data(self, dataset, dry_run=False, **kwargs):
        kwargs.update(use_transactions=True, rollback_on_validation_errors=True)
        self._row_of_key = {}
        with change_source(ChangeSource.IMPORT, user=self.user):
            return super().import_data(dataset, dry_run=dry_run, **kwargs)

    def before_import_row(self, row, row_number=None, **kwargs):
        column = self.fields[self.key_field].column_name
        raw = cell_text(row.get(column))
        try:
            key = self.normalize_key(raw)
        except (ValueError, ValidationError):
            key = raw  # validation says what is wrong with it, on its field
        row[column] = key
        if not key:
            return
        first = self._row_of_key.setdefault(key, row_number)
        if first != row_number:
            raise ValidationError(
                {
                    self.key_field: gettext("%(key)s is already on row %(row)d of this file.")
                    % {"key": key, "row": first}
                }
            )

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        row_result.number = kwargs.get("row_number")
        row_result.key = cell_text(row.get(self.fields[self.key_field].column_name))
        return row_result

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # A cell that could not be read says so once: the model's ``clean`` then complains
        # about the same field left empty ("must name its vehicle"), which only confuses.
        cell_errors = import_validation_errors or {}
        try:
            # Copies: the library extends the lists it is given.
            copies = {name: list(errors) for name, errors in cell_errors.items()}
            super().validate_instance(instance, copies, validate_unique)
        except ValidationError as error:
            raise ValidationError(
                {name: cell_errors.get(name, errors) for name, errors in error.error_dict.items()}
            ) from None

    def column_of(self, name: str) -> str:
        """The column a field's errors are reported on (the model's name for the others)."""
        resource_field = self.fields.get(name)
        if resource_field is None:
            by_attribute = (f for f in self.fields.values() if f.attribute == name)
            resource_field = next(by_attribute, None)
        return resource_field.column_name if resource_field is not None else name

    def do_instance_save(self, instance, is_create):
        self.save_through(instance)

    def save_m2m(self, instance, row, **kwargs):
        """Many-to-many values go with ``save_through``, which the services need together."""


@dataclass
class RowOutcome:
    """One row of an import as people and the API read it."""

    row: int
    outcome: str  # created, updated or error
    key: str
    object_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])


OUTCOME_LABELS = {
    "created": pgettext_lazy("import outcome", "created"),
    "updated": pgettext_lazy("import outcome", "updated"),
    "error": pgettext_lazy("import outcome", "error"),
}


def is_valid(result) -> bool:
    return not (result.has_errors() or result.has_validation_errors())


def row_outcomes(result, resource, *, written: bool) -> list[RowOutcome]:
    """Every row of ``result`` in file order: what it did (or would do), or its errors keyed
    by column (``non_field_errors`` for the row as a whole); the objects' ids once ``written``."""
    outcomes = []
    for row_result in result.rows:
        outcome = RowOutcome(row=row_result.number, outcome="error", key=row_result.key)
        if row_result.import_type == RowResult.IMPORT_TYPE_NEW:
            outcome.outcome = "created"
        elif row_result.import_type == RowResult.IMPORT_TYPE_UPDATE:
            outcome.outcome = "updated"
        elif row_result.validation_error is not None:
            outcome.errors = _errors_by_column(row_result.validation_error, resource)
        else:
            outcome.errors = {"non_field_errors": [str(e.error) for e in row_result.errors]}
        if written and outcome.outcome != "error":
            outcome.object_id = row_result.object_id
        outcomes.append(outcome)
    return outcomes


def _errors_by_column(error: ValidationError, resource) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": list(error.messages)}
    return {
        ("non_field_errors" if name == NON_FIELD_ERRORS else resource.column_of(name)): messages
        for name, messages in error.message_dict.items()
    }


def base_errors(result) -> list[str]:
    """What stopped the whole file before its rows (a missing key column, say)."""
    return [str(error.error) for error in result.base_errors]


def import_template(resource_class, file_format: str, *, filename: str) -> HttpResponse:
    """An empty file with the import's columns, to fill in: CSV as the user's Excel reads it
    (``;`` and a BOM in French, ``,`` in English), or Excel."""
    headers = [f.column_name for f in resource_class().get_import_fields()]
    if file_format == "xlsx":
        content = tablib.Dataset(headers=headers).export("xlsx")
        content_type = XLSX.CONTENT_TYPE
    else:
        french = translation.get_language() == "fr"
        delimiter, bom = (";", "\ufeff") if french else (",", "")
        content = bom + delimiter.join(_csv_cell(h, delimiter) for h in headers) + "\r\n"
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response


def _csv_cell(value: str, delimiter: str) -> str:
    if delimiter in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value

"""Change history with values (django-simple-history): who changed a company, vehicle, badge,
authorization group, station or Autocharge profile, when, through what, and each field's old
and new value.

- Each tracked model declares ``history = tracked(...)``: every save and delete writes a
  historical row, with the user and the source (``ChangeSource``) of the current context.
- The context: ``ChangeContextMiddleware`` sets it for HTTP requests (the admin, the API), and
  services wrap their writes in ``change_source(...)`` (enrolment, OCPP pairing). Anything
  else (management commands, the gateway) is ``system``, without a user.
- A write that bypasses ``save()`` (a queryset ``update()``) records itself with
  ``record_change``, or is a technical field left out of the history.
- ``changes_of`` turns a historical row into old → new values per field, for the admin's
  history pages and the API's ``history`` routes alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords
from simple_history.utils import get_history_manager_for_model, get_m2m_reverse_field_name


class ChangeSource(models.TextChoices):
    ADMIN = "admin", _("admin")
    API = "api", _("API")
    ENROLMENT = "enrolment", _("enrolment")
    PAIRING = "pairing", _("OCPP pairing")
    IMPORT = "import", pgettext_lazy("change source", "import")
    SYSTEM = "system", _("system")


class PasswordChange(models.TextChoices):
    """A station's password changed (its ``history_change_reason``): recorded without the
    password or its hash, which stay out of the history."""

    PASSWORD_SET = "password_set", _("password set")
    PASSWORD_REMOVED = "password_removed", _("password removed")
    PASSWORD_RESTORED = "password_restored", _("password restored: the station refused the new one")


@dataclass(frozen=True)
class _Context:
    source: str
    # A user, or the request whose user is read when a row is written: DRF authenticates a
    # token after the middleware ran, and sets the user on the request then.
    user: Any = None


_SYSTEM = _Context(ChangeSource.SYSTEM)
_context: ContextVar[_Context] = ContextVar("change_context")


@contextmanager
def change_source(source: ChangeSource, *, user=None) -> Iterator[None]:
    """Changes made inside come through ``source``, by ``user`` (default: the current one)."""
    token = _context.set(_Context(source, user or _context.get(_SYSTEM).user))
    try:
        yield
    finally:
        _context.reset(token)


def current_source() -> str:
    return _context.get(_SYSTEM).source


def current_user(**_ignored):
    """The user changes are recorded for: ``get_user`` of every tracked model."""
    user = _context.get(_SYSTEM).user
    if isinstance(user, HttpRequest):
        user = getattr(user, "user", None)
    return user if user is not None and user.is_authenticated else None


class ChangeContextMiddleware:
    """Admin and API requests: their changes are recorded as ``admin`` or ``api``, by the
    signed-in user (for the API, the token's user, known once DRF authenticated it)."""

    SOURCES = (("/admin/", ChangeSource.ADMIN), ("/api/", ChangeSource.API))

    def __init__(self, get_response: Callable):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        source = next(
            (source for prefix, source in self.SOURCES if request.path_info.startswith(prefix)),
            ChangeSource.SYSTEM,
        )
        with change_source(source, user=request):
            return self.get_response(request)


class HistoricalSource(models.Model):
    """What every historical row adds to simple-history's: through what the change came."""

    history_source = models.CharField(
        _("through"), max_length=16, choices=ChangeSource.choices, default=current_source
    )

    class Meta:
        abstract = True


class _HistoricalRecords(HistoricalRecords):
    """simple-history, also for a many-to-many change made from the other side
    (``station.authorization_groups.clear()`` changes groups' stations): upstream records it on
    the other side's object, which it may not track, and fails. Here each tracked object whose
    relation changed gets its row."""

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        if not reverse:
            return super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
        tracked_model, cleared = kwargs["model"], f"_history_cleared_{attr}"
        if action == "pre_clear":  # the signal after the clear does not say whose it was
            linked = tracked_model._default_manager.filter(**{attr: instance})
            setattr(instance, cleared, list(linked.values_list("pk", flat=True)))
        elif action in ("post_add", "post_remove", "post_clear"):
            pks = instance.__dict__.pop(cleared, []) if action == "post_clear" else pk_set
            for changed in tracked_model._default_manager.filter(pk__in=pks):
                self.create_historical_record(changed, "~")


def tracked(**options) -> HistoricalRecords:
    """The ``history`` of a tracked model; ``options`` as simple-history's (``excluded_fields``
    for technical fields, ``m2m_fields``)."""
    return _HistoricalRecords(bases=[HistoricalSource], get_user=current_user, **options)


def record_change(instance: models.Model, *, reason: PasswordChange | str = "") -> None:
    """Record ``instance``'s row as it is now in the database: after a write that bypassed
    ``save()`` (a conditional queryset update)."""
    fresh = type(instance)._default_manager.get(pk=instance.pk)
    history = get_history_manager_for_model(fresh)
    history.bulk_history_create([fresh], update=True, default_change_reason=reason)


HISTORY_STARTED = "history_started"


def record_existing_objects(app_label: str, *tracked_models: tuple[str, tuple[str, ...]]):
    """A data migration's function: one history row for every object of ``tracked_models``
    (``(model name, its tracked many-to-many fields)``) that exists when the history starts,
    so that the first change recorded afterwards shows what it changed. Reads the migration's
    models, not the current ones, which may have fields the database does not have yet."""

    def run(apps, schema_editor) -> None:
        now = timezone.now()
        for name, m2m_fields in tracked_models:
            model = apps.get_model(app_label, name)
            historical = apps.get_model(app_label, f"Historical{name}")
            copied = _copied_columns(historical)
            for obj in model._default_manager.iterator():
                record = historical._default_manager.create(
                    history_date=now,
                    history_type="~",
                    history_change_reason=HISTORY_STARTED,
                    history_source=ChangeSource.SYSTEM,
                    **{column: getattr(obj, column) for column in copied},
                )
                for field_name in m2m_fields:
                    _record_existing_links(apps, app_label, model, obj, field_name, record)

    return run


def _copied_columns(historical) -> list[str]:
    """The columns of a historical model that copy the tracked object's (or link's)."""
    return [
        f.attname
        for f in historical._meta.concrete_fields
        if not (f.name == "history" or f.name.startswith(("history_", "m2m_history_")))
    ]


def _record_existing_links(apps, app_label, model, obj, field_name, record) -> None:
    field = model._meta.get_field(field_name)
    through = field.remote_field.through
    rows = apps.get_model(app_label, f"Historical{model.__name__}_{field_name}")
    copied = _copied_columns(rows)
    links = through._default_manager.filter(**{field.m2m_field_name(): obj})
    rows._default_manager.bulk_create(
        rows(history=record, **{column: getattr(link, column) for column in copied})
        for link in links
    )


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: Any  # JSON-ready: a string, number, boolean, None, or a list of primary keys
    new: Any
    old_display: str
    new_display: str


def changes_of(record, previous) -> list[FieldChange]:
    """Each tracked field whose value differs between ``previous`` (None: the row was created)
    and ``record``, in the model's field order. A deletion changes nothing."""
    if record.history_type == "-":
        return []
    changes = []
    for field in record.tracked_fields:
        if field.primary_key:
            continue
        old = _value(previous, field) if previous is not None else None
        new = _value(record, field)
        if old != new and not (previous is None and new in (None, "")):
            changes.append(_field_change(field, old, new))
    for field in record._history_m2m_fields:
        old = _m2m_value(previous, field) if previous is not None else []
        new = _m2m_value(record, field)
        if old != new:
            changes.append(_field_change(field, old, new))
    reason = record.history_change_reason
    if reason in PasswordChange.values:  # what changed, never a value
        label = str(PasswordChange(reason).label)
        changes.append(FieldChange("password", str(_("password")), None, None, "—", label))
    return changes


def _value(record, field) -> Any:
    return getattr(record, field.attname)


def _m2m_value(record, field) -> list:
    target = get_m2m_reverse_field_name(field)
    rows = getattr(record, _m2m_rows(field)).all()
    return sorted(getattr(row, f"{target}_id") for row in rows)


def _m2m_rows(field) -> str:
    """The accessor of a historical row's many-to-many rows for ``field``: a reverse foreign
    key, which ``prefetch_related`` takes (simple-history's own accessor is a manager)."""
    history_field = HistoricalRecords.m2m_models[field]._meta.get_field("history")
    return history_field.remote_field.get_accessor_name()


def _field_change(field, old, new) -> FieldChange:
    return FieldChange(
        field=field.name,
        label=str(field.verbose_name),
        old=_json(old),
        new=_json(new),
        old_display=_display(field, old),
        new_display=_display(field, new),
    )


def _json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _display(field, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field.many_to_many:
        related = field.related_model._default_manager.filter(pk__in=value)
        return ", ".join(sorted(str(obj) for obj in related)) or ", ".join(map(str, value))
    if field.is_relation:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if hasattr(value, "tzinfo"):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    return str(value)


class EntryKind(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    DELETED = "deleted", _("Deleted")
    # The object as it was when its history started (``record_existing_objects``).
    STARTED = "started", _("History started")


_KIND_OF_TYPE = {"+": EntryKind.CREATED, "~": EntryKind.CHANGED, "-": EntryKind.DELETED}


@dataclass(frozen=True)
class Entry:
    """One historical row as people and the API read it."""

    record: Any
    changes: list[FieldChange]

    @property
    def kind(self) -> EntryKind:
        if self.record.history_change_reason == HISTORY_STARTED:
            return EntryKind.STARTED
        return _KIND_OF_TYPE[self.record.history_type]


def history_pages(records: list, previous_of_last) -> list[Entry]:
    """``records``, newest first (one page), each with its changes; ``previous_of_last``:
    the record before the page's last one (None if it is the first)."""
    previous = [*records[1:], previous_of_last]
    return [
        Entry(record, changes_of(record, before))
        for record, before in zip(records, previous, strict=True)
    ]


def history_of(obj: models.Model):
    """``obj``'s historical rows, newest first, with their users and many-to-many values."""
    records = obj.history.select_related("history_user")
    m2m = [_m2m_rows(field) for field in records.model._history_m2m_fields]
    return records.prefetch_related(*m2m).order_by("-history_date", "-history_id")

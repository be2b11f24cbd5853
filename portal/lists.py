"""Search, filters and sorting of the portal's lists, from the query string (``?q=…&status=…
&sort=-started_at``): a link or a bookmark is the list as seen, pages keep them
(``page_url``). What cannot be read (an unknown choice, a bad date, a sort on no column) is
left out, never an error page."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from badges.authorization import Reason
from fleet.models import Company
from portal.forms import REPORT_EARLIEST, REPORT_LATEST, DateInput
from portal.selectors import local_midnight
from stations.models import AuthMethod, AutochargeReadiness, ConnectionState, Station
from supervision.tenancy import is_superuser, scope

SEARCH_MAX_WORDS = 5


class ListFilterForm(forms.Form):
    """``q`` searches ``search_fields`` (every word somewhere); ``sort`` is one of ``sorts``
    (``-`` first: descending); subclasses add filters and ``filter_queryset``."""

    search_fields: tuple[str, ...] = ()
    sorts: dict[str, str] = {}  # sort key → the field it orders by
    default_sort = ""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, data=None, *, user, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.user = user
        if "company" in self.fields:
            if is_superuser(user):
                self.fields["company"].queryset = scope(Company.objects.all(), user)
            else:  # their company's rows only: nothing to choose
                del self.fields["company"]

    def values(self) -> dict:
        """The filters that could be read (others are ignored)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.values())

    def sort(self) -> str:
        key = self.data.get("sort", "")
        return key if key.lstrip("-") in self.sorts else self.default_sort

    def apply(self, queryset: QuerySet) -> QuerySet:
        values = self.values()
        words = values.get("q", "").split()[:SEARCH_MAX_WORDS]
        for word in words:
            matches = Q()
            for field in self.search_fields:
                matches |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(matches)
        queryset = self.filter_queryset(queryset, values)
        key = self.sort()
        field = F(self.sorts[key.lstrip("-")])
        order = field.desc(nulls_last=True) if key.startswith("-") else field.asc(nulls_last=True)
        return queryset.order_by(order, "pk")

    def filter_queryset(self, queryset: QuerySet, values: dict) -> QuerySet:
        return queryset


def _any(choices) -> list:
    return [("", _("Any")), *choices]


def _yes_no() -> list:
    return [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


class StationFilterForm(ListFilterForm):
    search_fields = ("charge_point_id", "name", "vendor", "model")
    sorts = {
        "station": "charge_point_id",
        "status": "connection_state",
        "charging": "charging_now",
        "readiness": "autocharge_readiness",
        "company": "company__name",
        "heartbeat": "last_heartbeat_at",
    }
    default_sort = "station"

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_any(ConnectionState.choices)
    )
    readiness = forms.ChoiceField(
        label=_("Autocharge readiness"), required=False, choices=_any(AutochargeReadiness.choices)
    )
    company = forms.ModelChoiceField(
        label=_("Company"), required=False, queryset=Company.objects.none(), empty_label=_("Any")
    )

    def filter_queryset(self, queryset, values):
        if "status" in values:
            queryset = queryset.filter(connection_state=values["status"])
        if "readiness" in values:
            queryset = queryset.filter(autocharge_readiness=values["readiness"])
        if "company" in values:
            queryset = queryset.filter(company=values["company"])
        return queryset


class VehicleFilterForm(ListFilterForm):
    search_fields = ("license_plate", "make", "model")
    sorts = {
        "vehicle": "license_plate",
        "make": "make",
        "company": "company__name",
        "last_session": "last_session_at",
        "energy": "last_session_energy_wh",
    }
    default_sort = "vehicle"

    active_only = forms.ChoiceField(
        label=pgettext_lazy("vehicle filter", "Active"), required=False, choices=_yes_no()
    )
    company = forms.ModelChoiceField(
        label=_("Company"), required=False, queryset=Company.objects.none(), empty_label=_("Any")
    )

    def filter_queryset(self, queryset, values):
        if "active_only" in values:
            queryset = queryset.filter(active=values["active_only"] == "yes")
        if "company" in values:
            queryset = queryset.filter(company=values["company"])
        return queryset


class _StationChoice(forms.ModelChoiceField):
    def label_from_instance(self, station: Station) -> str:
        return station.charge_point_id


def _station_field() -> forms.ModelChoiceField:
    return _StationChoice(
        label=_("Station"), required=False, queryset=Station.objects.none(), empty_label=_("Any")
    )


class SessionFilterForm(ListFilterForm):
    search_fields = ("vehicle_plate", "id_tag", "station__charge_point_id", "company_name")
    sorts = {
        "started": "started_at",
        "stopped": "stopped_at",
        "station": "station__charge_point_id",
        "vehicle": "vehicle_plate",
        "energy": "energy_wh",
    }
    default_sort = "-started"

    station = _station_field()
    state = forms.ChoiceField(
        label=pgettext_lazy("session state", "State"),
        required=False,
        choices=[
            ("", _("Any")),
            ("charging", pgettext_lazy("session state", "Charging")),
            ("stopped", pgettext_lazy("session state", "Stopped")),
        ],
    )
    auth_method = forms.ChoiceField(
        label=_("Authentication"), required=False, choices=_any(AuthMethod.choices)
    )
    start = forms.DateField(
        label=_("Started from"),
        required=False,
        widget=DateInput(),
        validators=[MinValueValidator(REPORT_EARLIEST), MaxValueValidator(REPORT_LATEST)],
    )
    end = forms.DateField(
        label=_("Started until (included)"),
        required=False,
        widget=DateInput(),
        validators=[MinValueValidator(REPORT_EARLIEST), MaxValueValidator(REPORT_LATEST)],
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["station"].queryset = scope(Station.objects.all(), user)

    def filter_queryset(self, queryset, values):
        if "station" in values:
            queryset = queryset.filter(station=values["station"])
        if values.get("state") == "charging":
            queryset = queryset.filter(stopped_at__isnull=True)
        elif values.get("state") == "stopped":
            queryset = queryset.filter(stopped_at__isnull=False)
        if "auth_method" in values:
            queryset = queryset.filter(auth_method=values["auth_method"])
        if "start" in values:
            queryset = queryset.filter(started_at__gte=local_midnight(values["start"]))
        if "end" in values:
            next_day = values["end"] + timedelta(days=1)
            queryset = queryset.filter(started_at__lt=local_midnight(next_day))
        return queryset


class RefusalFilterForm(ListFilterForm):
    search_fields = ("id_tag", "mac", "station__charge_point_id")
    sorts = {"time": "seen_at", "station": "station__charge_point_id", "reason": "reason"}
    default_sort = "-time"

    station = _station_field()
    reason = forms.ChoiceField(label=_("Reason"), required=False, choices=_any(Reason.choices))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["station"].queryset = scope(Station.objects.all(), user)

    def filter_queryset(self, queryset, values):
        if "station" in values:
            queryset = queryset.filter(station=values["station"])
        if "reason" in values:
            queryset = queryset.filter(reason=values["reason"])
        return queryset


class SiteFilterForm(ListFilterForm):
    search_fields = ("name", "address")
    sorts = {"site": "name", "company": "company__name"}
    default_sort = "site"

"""Forms of the admin's intermediate pages (enrol, dismiss, arm for pairing), and the helpers
that render them. The pages collect what staff choose; the services decide and write."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from badges.models import Badge, PairingWindow, UnknownVehicle
from badges.services import MAX_CONNECTOR_ID, EnrolmentError, check_shared_mac
from fleet.models import Vehicle
from stations.enrolment import MAX_PAIRING_MINUTES, pairing_open
from stations.models import Station
from supervision.archiving import unarchived
from supervision.tenancy import scope

ACTION_TEMPLATE = "admin/autocharge/action_form.html"


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form: on the field it names when the form has one,
    on the confirmation box for a shared MAC, above the form otherwise."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return
    shared_mac = getattr(error, "code", None) == "shared_mac"
    field = (
        "acknowledge_shared_mac" if shared_mac and "acknowledge_shared_mac" in form.fields else None
    )
    form.add_error(field, error)


def action_page(
    model_admin,
    request,
    queryset,
    *,
    form: forms.Form,
    action: str,
    title: str,
    intro: str,
    submit_label: str,
) -> TemplateResponse:
    """An action's intermediate page, built like Django's delete confirmation: it posts the
    selection back to the changelist with ``action`` and ``confirm``."""
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "opts": opts,
        "queryset": queryset,
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, ACTION_TEMPLATE, context)


def confirmed(request) -> bool:
    """The intermediate page was submitted (not the first click on the action)."""
    return request.POST.get("confirm") == "yes"


def armed_message(window: PairingWindow) -> str:
    return gettext(
        "%(station)s is armed for %(vehicle)s until %(time)s: plug the vehicle in now."
    ) % {
        "station": window.station,
        "vehicle": window.vehicle.license_plate,
        "time": timezone.localtime(window.expires_at).strftime("%H:%M"),
    }


def pairing_action(
    model_admin,
    request,
    queryset,
    *,
    form_class: type["SharedMacConfirmationForm"],
    selected_as: str,
    select_one_message: str,
    action: str,
    title: str,
    intro: str,
):
    """The "arm for pairing" action from either side: the one selected station (``selected_as``
    "station") or vehicle ("vehicle"); the form chooses the other side, minutes and connector."""
    if queryset.count() != 1:
        model_admin.message_user(request, select_one_message, messages.ERROR)
        return None
    selected = queryset.get()
    form = form_class(
        request.POST if confirmed(request) else None, user=request.user, **{selected_as: selected}
    )
    if form.is_bound and form.is_valid():
        chosen = {**form.cleaned_data, selected_as: selected}
        try:
            window = pairing_open(
                station=chosen["station"],
                vehicle=chosen["vehicle"],
                minutes=chosen["minutes"],
                connector_id=chosen["connector_id"],
                opened_by=request.user,
                acknowledge_shared_mac=chosen["acknowledge_shared_mac"],
            )
        except EnrolmentError as error:
            add_service_error(form, error)
        else:
            model_admin.message_user(request, armed_message(window), messages.SUCCESS)
            return None
    return action_page(
        model_admin,
        request,
        queryset,
        form=form,
        action=action,
        title=title,
        intro=intro,
        submit_label=gettext("Arm"),
    )


def _vehicle_chooser() -> forms.ModelChoiceField:
    # The badge form's vehicle picker: the same search by plate, make and model.
    return forms.ModelChoiceField(
        label=_("Vehicle"),
        queryset=Vehicle.objects.select_related("company"),
        widget=AutocompleteSelect(Badge._meta.get_field("vehicle"), admin.site),
    )


def _minutes_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Minutes"),
        min_value=1,
        max_value=MAX_PAIRING_MINUTES,
        help_text=_("How long the station waits for the vehicle."),
    )


def _connector_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Connector"),
        min_value=1,
        max_value=MAX_CONNECTOR_ID,
        required=False,
        help_text=_("Empty: any connector."),
    )


class SharedMacConfirmationForm(forms.Form):
    """Asks for an explicit confirmation when the vehicle's model line shares its MAC. Its
    choosers offer only what ``user`` sees (``supervision.tenancy``)."""

    acknowledge_shared_mac = forms.BooleanField(
        label=_("I know this model shares its MAC"), required=False
    )

    def __init__(self, *args, user, vehicle: Vehicle | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.vehicle = vehicle
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = unarchived(scope(field.queryset, user))

    def chosen_vehicle(self) -> Vehicle | None:
        if self.vehicle is not None:
            return self.vehicle
        return getattr(self, "cleaned_data", {}).get("vehicle")

    @property
    def shared_mac_warning(self) -> str:
        """The warning to show above the confirmation box, "" when none is needed."""
        vehicle = self.chosen_vehicle()
        if vehicle is None:
            return ""
        try:
            check_shared_mac(vehicle=vehicle, acknowledged=False)
        except EnrolmentError as error:
            return " ".join(error.messages)
        return ""

    def clean(self):
        cleaned_data = super().clean()
        vehicle = self.chosen_vehicle()
        if vehicle is not None:
            try:
                check_shared_mac(
                    vehicle=vehicle, acknowledged=cleaned_data.get("acknowledge_shared_mac", False)
                )
            except EnrolmentError as error:
                self.add_error("acknowledge_shared_mac", error)
        return cleaned_data


class UnknownVehicleEnrolForm(SharedMacConfirmationForm):
    """Offers the vehicles of the entry's company only (to superusers too): another company's
    badge would never resolve this entry."""

    vehicle = _vehicle_chooser()

    field_order = ["vehicle", "acknowledge_shared_mac"]

    def __init__(self, *args, entry: UnknownVehicle, **kwargs):
        super().__init__(*args, **kwargs)
        vehicles = self.fields["vehicle"]
        vehicles.queryset = vehicles.queryset.filter(company=entry.company_id)


class UnknownVehicleDismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Why these vehicles are not enrolled, e.g. a visitor."),
    )


class StationPairingForm(SharedMacConfirmationForm):
    """Arm one station: which vehicle, for how long, on which connector."""

    vehicle = _vehicle_chooser()
    minutes = _minutes_field()
    connector_id = _connector_field()

    field_order = ["vehicle", "minutes", "connector_id", "acknowledge_shared_mac"]

    def __init__(self, *args, station: Station, **kwargs):
        super().__init__(*args, **kwargs)
        self.station = station
        self.fields["minutes"].initial = settings.AUTOCHARGE_PAIRING_MINUTES


class VehiclePairingForm(SharedMacConfirmationForm):
    """Pair one vehicle: at which of the stations it may charge at, for how long."""

    station = forms.ModelChoiceField(label=_("Station"), queryset=Station.objects.none())
    minutes = _minutes_field()
    connector_id = _connector_field()

    field_order = ["station", "minutes", "connector_id", "acknowledge_shared_mac"]

    def __init__(self, *args, vehicle: Vehicle, user, **kwargs):
        super().__init__(*args, vehicle=vehicle, user=user, **kwargs)
        self.fields["minutes"].initial = settings.AUTOCHARGE_PAIRING_MINUTES
        # Its company's stations and those of its authorization groups: where pairing may work.
        stations = Station.objects.filter(
            Q(company=vehicle.company_id) | Q(authorization_groups__company=vehicle.company_id)
        ).distinct()
        self.fields["station"].queryset = unarchived(scope(stations, self.user))

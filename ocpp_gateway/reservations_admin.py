"""The reservations' admin: listed with filters, made with a form that sends ReserveNow, and
cancelled with an action that sends CancelReservation. Here, not in badges, because it sends
to stations."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from badges.models import Badge, Reservation
from ocpp_gateway.operations.commands import CommandInvalid, StationNotConnected
from ocpp_gateway.operations.reservations import cancel, reserve
from stations.models import Station
from stations.reservations import stations_chargeable_by
from supervision import tenancy
from supervision.admin import CompanyScopedAdminMixin

MAX_MINUTES = 24 * 60


class ReserveForm(forms.Form):
    station = forms.ModelChoiceField(label=_("station"), queryset=Station.objects.all())
    connector_id = forms.IntegerField(
        label=_("connector id"),
        min_value=0,
        initial=1,
        help_text=_("0: any connector of the station (OCPP 2.0.1: no EVSE named)."),
    )
    badge = forms.ModelChoiceField(label=_("badge"), queryset=Badge.objects.all())
    minutes = forms.IntegerField(
        label=_("minutes"),
        min_value=1,
        max_value=MAX_MINUTES,
        initial=30,
        help_text=_("How long the connector is kept for the badge."),
    )
    connector_type = forms.CharField(
        label=_("connector type"),
        required=False,
        max_length=20,
        help_text=_("OCPP 2.0.1 only: reserve a connector of this type (cType2, cCCS2…)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["badge"].queryset = tenancy.scope(Badge.objects.all(), user)
        if not tenancy.is_superuser(user):
            # Not only its own stations: also those its groups may charge at.
            company = tenancy.company_of(user)
            self.fields["station"].queryset = stations_chargeable_by(company)


@admin.register(Reservation)
class ReservationAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """Reservations, newest first. Nothing is edited here: a reservation is made with the form
    (the station answers) and ended by cancelling it, by its use or by its expiry."""

    list_display = [
        "reservation_id",
        "station",
        "connector_id",
        "badge",
        "expires_at",
        "status",
        "detail",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "station", "badge__company"]
    search_fields = ["badge__rfid", "station__charge_point_id", "badge__vehicle__license_plate"]
    list_select_related = ["station", "badge", "created_by"]
    date_hierarchy = "created_at"
    actions = ["cancel_reservations"]
    readonly_fields = [field.name for field in Reservation._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_cancel_permission(self, request) -> bool:
        return super().has_change_permission(request)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ReserveForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                reservation = reserve(
                    station=data["station"],
                    badge=data["badge"],
                    connector_id=data["connector_id"],
                    expires_at=timezone.now() + timedelta(minutes=data["minutes"]),
                    connector_type=data["connector_type"],
                    requested_by=request.user,
                )
            except ValidationError as refused:
                for field, errors in refused.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except CommandInvalid as invalid:
                form.add_error(None, invalid.message)
            except StationNotConnected:
                form.add_error(
                    "station",
                    _("%(station)s is not connected: nothing was reserved.")
                    % {"station": data["station"]},
                )
            else:
                messages.success(
                    request,
                    _("Reservation %(id)s sent to %(station)s; its answer will show here.")
                    % {"id": reservation.reservation_id, "station": reservation.station},
                )
                return redirect("admin:badges_reservation_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reserve a connector"),
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/badges/reservation/reserve.html", context)

    @admin.action(description=_("Cancel the selected reservations"), permissions=["cancel"])
    def cancel_reservations(self, request, queryset) -> None:
        cancelled = 0
        for reservation in queryset.select_related("station"):
            if reservation.holds():
                cancel(reservation=reservation, requested_by=request.user)
                cancelled += 1
        messages.success(
            request,
            ngettext(
                "%(count)d reservation cancelled.",
                "%(count)d reservations cancelled.",
                cancelled,
            )
            % {"count": cancelled},
        )

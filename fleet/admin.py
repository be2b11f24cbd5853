from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from badges.forms import (
    VehiclePairingForm,
    action_page,
    add_service_error,
    armed_message,
    confirmed,
)
from badges.services import EnrolmentError, pairing_open
from fleet.models import AuthorizationGroup, Company, Vehicle


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_email", "phone"]
    search_fields = ["name", "contact_email"]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["license_plate", "make", "model", "company", "active"]
    list_filter = ["active", "company", "make"]
    search_fields = ["license_plate", "vin", "make", "model"]
    autocomplete_fields = ["company"]
    actions = ["pair_at_station"]

    def has_pair_permission(self, request) -> bool:
        return request.user.has_perm("badges.add_pairingwindow")

    @admin.action(description=_("Pair at a station…"), permissions=["pair"])
    def pair_at_station(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Select exactly one vehicle to pair."), messages.ERROR
            )
            return None
        vehicle = queryset.get()
        form = VehiclePairingForm(request.POST if confirmed(request) else None, vehicle=vehicle)
        if form.is_bound and form.is_valid():
            try:
                window = pairing_open(
                    station=form.cleaned_data["station"],
                    vehicle=vehicle,
                    minutes=form.cleaned_data["minutes"],
                    connector_id=form.cleaned_data["connector_id"],
                    opened_by=request.user,
                    acknowledge_shared_mac=form.cleaned_data["acknowledge_shared_mac"],
                )
            except EnrolmentError as error:
                add_service_error(form, error)
            else:
                self.message_user(request, armed_message(window), messages.SUCCESS)
                return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            action="pair_at_station",
            title=gettext("Pair at a station"),
            intro=gettext(
                "The MAC address of the next unknown vehicle that plugs in at the chosen station "
                "within the window becomes this vehicle's Autocharge badge."
            ),
            submit_label=gettext("Arm"),
        )


@admin.register(AuthorizationGroup)
class AuthorizationGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "company"]
    list_filter = ["company"]
    search_fields = ["name", "company__name"]
    autocomplete_fields = ["company"]
    filter_horizontal = ["stations"]

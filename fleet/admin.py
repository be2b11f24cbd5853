from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from badges.forms import VehiclePairingForm, pairing_action
from fleet.models import AuthorizationGroup, Company, StaffMembership, Vehicle
from supervision.admin import ChangeHistoryAdminMixin, CompanyScopedAdminMixin


@admin.register(Company)
class CompanyAdmin(CompanyScopedAdminMixin, ChangeHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["name", "contact_email", "phone"]
    search_fields = ["name", "contact_email"]


@admin.register(Vehicle)
class VehicleAdmin(CompanyScopedAdminMixin, ChangeHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["license_plate", "make", "model", "company", "active"]
    list_filter = ["active", "company", "make"]
    search_fields = ["license_plate", "vin", "make", "model"]
    autocomplete_fields = ["company"]
    actions = ["pair_at_station"]

    def has_pair_permission(self, request) -> bool:
        return request.user.has_perm("badges.add_pairingwindow")

    @admin.action(description=_("Pair at a station…"), permissions=["pair"])
    def pair_at_station(self, request, queryset):
        return pairing_action(
            self,
            request,
            queryset,
            form_class=VehiclePairingForm,
            selected_as="vehicle",
            select_one_message=gettext("Select exactly one vehicle to pair."),
            action="pair_at_station",
            title=gettext("Pair at a station"),
            intro=gettext(
                "The MAC address of the next unknown vehicle that plugs in at the chosen station "
                "within the window becomes this vehicle's Autocharge badge."
            ),
        )


@admin.register(AuthorizationGroup)
class AuthorizationGroupAdmin(CompanyScopedAdminMixin, ChangeHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["name", "company"]
    list_filter = ["company"]
    search_fields = ["name", "company__name"]
    autocomplete_fields = ["company"]
    filter_horizontal = ["stations"]


# --- Staff accounts: the company each staff user works for --------------------------------


class StaffMembershipInline(CompanyScopedAdminMixin, admin.StackedInline):
    model = StaffMembership
    fields = ["company"]
    verbose_name_plural = _("company")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(CompanyScopedAdminMixin, UserAdmin):
    """Django's user admin, plus the company of each staff user. Accounts are for superusers
    only: tenancy has no rule for users."""

    inlines = [*UserAdmin.inlines, StaffMembershipInline]
    list_display = [*UserAdmin.list_display, "company"]
    list_filter = [*UserAdmin.list_filter, "staff_membership__company"]
    list_select_related = ["staff_membership__company"]

    @admin.display(description=_("company"), ordering="staff_membership__company__name")
    def company(self, user) -> str:
        membership = getattr(user, "staff_membership", None)
        return str(membership.company) if membership is not None else "-"

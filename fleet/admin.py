from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from fleet import services
from fleet.imports import VehicleImportResource
from fleet.models import AuthorizationGroup, Company, StaffMembership, Vehicle
from supervision.admin import (
    ArchiveInsteadOfDeleteAdminMixin,
    ChangeHistoryAdminMixin,
    CompanyScopedAdminMixin,
    WrittenThroughServicesAdminMixin,
)
from supervision.imports_admin import ImportAdminMixin


@admin.register(Company)
class CompanyAdmin(
    ArchiveInsteadOfDeleteAdminMixin,
    CompanyScopedAdminMixin,
    WrittenThroughServicesAdminMixin,
    admin.ModelAdmin,
):
    list_display = ["name", "contact_email", "phone"]
    search_fields = ["name", "contact_email"]

    def save_through(self, obj, form) -> None:
        services.company_save(company=obj)

    def delete_through(self, obj) -> None:
        services.company_delete(company=obj)


@admin.register(Vehicle)
class VehicleAdmin(
    ArchiveInsteadOfDeleteAdminMixin,
    CompanyScopedAdminMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    ImportAdminMixin,
    admin.ModelAdmin,
):
    list_display = ["license_plate", "make", "model", "company", "active"]
    list_filter = ["active", "company", "make"]
    search_fields = ["license_plate", "vin", "make", "model"]
    autocomplete_fields = ["company"]
    resource_classes = [VehicleImportResource]
    import_filename = "vehicles-import"

    def save_through(self, obj, form) -> None:
        services.vehicle_save(vehicle=obj)

    def delete_through(self, obj) -> None:
        services.vehicle_delete(vehicle=obj)


@admin.register(AuthorizationGroup)
class AuthorizationGroupAdmin(
    CompanyScopedAdminMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    admin.ModelAdmin,
):
    list_display = ["name", "company"]
    list_filter = ["company"]
    search_fields = ["name", "company__name"]
    autocomplete_fields = ["company"]
    filter_horizontal = ["stations"]

    def save_through(self, obj, form) -> None:
        # The stations here, not in save_related: leaving stations are read before they go.
        services.group_save(group=obj, stations=form.cleaned_data.get("stations"))

    def delete_through(self, obj) -> None:
        services.group_delete(group=obj)


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

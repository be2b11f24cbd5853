from django.contrib import admin

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


@admin.register(AuthorizationGroup)
class AuthorizationGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "company"]
    list_filter = ["company"]
    search_fields = ["name", "company__name"]
    autocomplete_fields = ["company"]
    filter_horizontal = ["stations"]

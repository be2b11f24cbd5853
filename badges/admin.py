from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from badges.models import Badge


class AutochargeFilter(admin.SimpleListFilter):
    title = _("Autocharge")
    parameter_name = "autocharge"

    def lookups(self, request, model_admin):
        return [("yes", _("Autocharge (VID:)")), ("no", _("RFID cards"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.autocharge()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.autocharge())
        return queryset


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    """The seed's "Add a badge" form: the badge itself, then "Attribution and usage"."""

    fieldsets = [
        (
            _("Badge"),
            {
                "fields": [
                    "rfid",
                    "visual_number",
                    "type",
                    "state",
                    "provider",
                    "description",
                    "expires_at",
                ]
            },
        ),
        (_("Attribution and usage"), {"fields": ["usage", "mode", "company", "vehicle", "groups"]}),
    ]
    list_display = [
        "rfid",
        "visual_number",
        "type",
        "state",
        "company",
        "vehicle",
        "usage",
        "is_autocharge_display",
        "expires_at",
    ]
    list_filter = ["state", "type", AutochargeFilter, "usage", "mode", "company"]
    search_fields = ["rfid", "visual_number", "vehicle__license_plate", "description"]
    autocomplete_fields = ["provider", "company", "vehicle"]
    filter_horizontal = ["groups"]
    list_select_related = ["company", "vehicle"]

    @admin.display(boolean=True, description=_("Autocharge"))
    def is_autocharge_display(self, badge: Badge) -> bool:
        return badge.is_autocharge

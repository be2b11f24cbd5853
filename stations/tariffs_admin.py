"""Admin of tariffs; imported by ``stations.admin``."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from stations import tariffs
from stations.models import Tariff, TariffScope
from supervision.admin import (
    ChangeHistoryAdminMixin,
    CompanyScopedAdminMixin,
    WrittenThroughServicesAdminMixin,
)


class ScopeFilter(admin.SimpleListFilter):
    title = _("applies to")
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return TariffScope.choices

    def queryset(self, request, queryset):
        match self.value():
            case TariffScope.STATION:
                return queryset.filter(station__isnull=False)
            case TariffScope.GROUP:
                return queryset.filter(group__isnull=False)
            case TariffScope.COMPANY:
                return queryset.filter(station__isnull=True, group__isnull=True)
        return queryset


class ValidityFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [
            ("now", _("Valid now")),
            ("ended", pgettext_lazy("tariff validity", "Ended")),
            ("future", _("Not started yet")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "now":
                return queryset.filter(valid_from__lte=now).exclude(valid_until__lte=now)
            case "ended":
                return queryset.filter(valid_until__lte=now)
            case "future":
                return queryset.filter(valid_from__gt=now)
        return queryset


@admin.register(Tariff)
class TariffAdmin(
    CompanyScopedAdminMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    admin.ModelAdmin,
):
    list_display = [
        "__str__",
        "company",
        "scope_label",
        "price_per_kwh",
        "session_fee",
        "currency",
        "valid_from",
        "valid_until",
    ]
    list_filter = [ScopeFilter, ValidityFilter, "currency", "company"]
    search_fields = ["name", "company__name", "group__name", "station__charge_point_id"]
    list_select_related = ["company", "group", "station"]
    autocomplete_fields = ["company"]
    date_hierarchy = "valid_from"
    fieldsets = [
        (None, {"fields": ["company", "name"]}),
        (
            _("Applies to"),
            {
                "fields": ["group", "station"],
                "description": _(
                    "The most specific tariff wins: one station's, then its group's, then the "
                    "whole company's."
                ),
            },
        ),
        (_("Prices"), {"fields": ["price_per_kwh", "session_fee", "currency"]}),
        (_("Validity"), {"fields": ["valid_from", "valid_until"]}),
    ]

    @admin.display(description=_("applies to"))
    def scope_label(self, tariff: Tariff) -> str:
        scope = tariff.scope
        if scope == TariffScope.STATION:
            return f"{scope.label}: {tariff.station}"
        if scope == TariffScope.GROUP:
            return f"{scope.label}: {tariff.group.name}"
        return str(scope.label)

    def save_through(self, obj, form) -> None:
        tariffs.tariff_save(tariff=obj)

    def delete_through(self, obj) -> None:
        tariffs.tariff_delete(tariff=obj)

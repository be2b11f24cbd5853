"""*Stations → Transaction anomalies*: what stations sent that was odd (accepted, so that no
station retries forever), for staff to look at. Read-only: anomalies are facts."""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from stations.models import TransactionAnomaly
from supervision.admin import CompanyScopedAdminMixin, ReadOnlyAdminMixin


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("yes", _("Resolved")), ("no", _("Not resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        return queryset


@admin.register(TransactionAnomaly)
class TransactionAnomalyAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "last_seen_at",
        "kind",
        "station",
        "transaction_id",
        "session",
        "occurrences",
        "resolved_at",
    ]
    list_filter = ["kind", ResolvedFilter, "station"]
    search_fields = ["station__charge_point_id", "transaction_id", "session__id_tag"]
    search_help_text = _("Station, transaction id or the session's id tag.")
    list_select_related = ["station", "session"]
    date_hierarchy = "created_at"
    fields = [
        "kind",
        "station",
        "session",
        "transaction_id",
        "occurrences",
        "created_at",
        "last_seen_at",
        "resolved_at",
        "sent",
    ]
    readonly_fields = fields

    @admin.display(description=_("what the station sent"))
    def sent(self, anomaly: TransactionAnomaly) -> str:
        return format_html(
            "<pre>{}</pre>",
            json.dumps(anomaly.details, indent=2, ensure_ascii=False, default=str),
        )

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from stations.models import (
    AutochargeProfile,
    AutochargeSetting,
    ChargingSession,
    Connector,
    MeterValue,
    Station,
)
from supervision.admin import ReadOnlyAdminMixin, ReadOnlyInline


class ConnectorInline(ReadOnlyInline):
    model = Connector
    fields = ["connector_id", "status", "error_code", "info", "vendor_error_code", "updated_at"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = [
        "charge_point_id",
        "name",
        "company",
        "auth_mode",
        "connection_state",
        "autocharge_readiness",
        "vendor",
        "model",
        "last_heartbeat_at",
    ]
    list_filter = ["connection_state", "autocharge_readiness", "auth_mode", "company", "vendor"]
    search_fields = ["charge_point_id", "name", "serial_number", "vendor", "model"]
    autocomplete_fields = ["company"]
    fieldsets = [
        (None, {"fields": ["charge_point_id", "name", "company", "auth_mode"]}),
        (
            _("Reported by the station"),
            {
                "fields": [
                    "vendor",
                    "model",
                    "serial_number",
                    "firmware_version",
                    "connection_state",
                    "connected_at",
                    "last_boot_at",
                    "last_heartbeat_at",
                ]
            },
        ),
        (
            _("Autocharge"),
            {"fields": ["autocharge_readiness", "autocharge_detail", "autocharge_checked_at"]},
        ),
        (
            _("Local authorization list"),
            {"fields": ["local_list_version", "local_list_synced_at", "local_list_detail"]},
        ),
        (
            _("Configuration"),
            {"fields": ["configuration_read_at", "configuration"], "classes": ["collapse"]},
        ),
    ]
    readonly_fields = [
        "vendor",
        "model",
        "serial_number",
        "firmware_version",
        "connection_state",
        "connected_at",
        "last_boot_at",
        "last_heartbeat_at",
        "autocharge_readiness",
        "autocharge_detail",
        "autocharge_checked_at",
        "local_list_version",
        "local_list_synced_at",
        "local_list_detail",
        "configuration_read_at",
        "configuration",
    ]
    inlines = [ConnectorInline]

    @admin.display(description=_("configuration keys"))
    def configuration(self, station: Station) -> str:
        """The last GetConfiguration answer, key by key; read-only keys marked."""
        keys = station.configuration_keys.all() if station.pk else []
        if not keys:
            return _("Not read yet: use the action “Read the configuration”.")
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            (
                (
                    key.key,
                    "" if key.value is None else key.value,
                    _("read-only") if key.readonly else "",
                )
                for key in keys
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{}</tbody>"
            "</table>",
            _("Key"),
            _("Value"),
            rows,
        )


class AutochargeSettingInline(admin.TabularInline):
    model = AutochargeSetting
    extra = 1
    fields = ["key", "mode", "value"]


@admin.register(AutochargeProfile)
class AutochargeProfileAdmin(admin.ModelAdmin):
    """Which configuration keys turn Autocharge on, per vendor (model, firmware)."""

    list_display = ["vendor", "model", "firmware_version", "settings_display", "push_on_boot"]
    list_filter = ["vendor", "push_on_boot", "repair_drift"]
    search_fields = ["vendor", "model", "settings__key"]
    fields = ["vendor", "model", "firmware_version", "push_on_boot", "repair_drift", "notes"]
    inlines = [AutochargeSettingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("settings")

    @admin.display(description=_("settings"))
    def settings_display(self, profile: AutochargeProfile) -> str:
        return "; ".join(str(setting) for setting in profile.settings.all())


class MeterValueInline(ReadOnlyInline):
    model = MeterValue
    fields = ["timestamp", "measurand", "value", "unit", "phase", "context", "location"]


@admin.register(ChargingSession)
class ChargingSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "transaction_id",
        "station",
        "connector_id",
        "id_tag",
        "vehicle",
        "company",
        "auth_method",
        "authorization_status",
        "energy_wh",
        "started_at",
        "stopped_at",
    ]
    list_filter = ["auth_method", "authorization_status", "company", "station"]
    search_fields = ["id_tag", "vehicle__license_plate", "station__charge_point_id"]
    list_select_related = ["station", "vehicle", "company"]
    date_hierarchy = "started_at"
    inlines = [MeterValueInline]

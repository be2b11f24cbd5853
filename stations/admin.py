from django.contrib import admin

from stations.models import ChargingSession, Connector, MeterValue, Station
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
        "vendor",
        "model",
        "last_heartbeat_at",
    ]
    list_filter = ["connection_state", "auth_mode", "company", "vendor"]
    search_fields = ["charge_point_id", "name", "serial_number", "vendor", "model"]
    autocomplete_fields = ["company"]
    readonly_fields = [
        "vendor",
        "model",
        "serial_number",
        "firmware_version",
        "connection_state",
        "connected_at",
        "last_boot_at",
        "last_heartbeat_at",
    ]
    inlines = [ConnectorInline]


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

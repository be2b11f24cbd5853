from rest_framework import serializers

from stations.models import (
    ChargingSession,
    ConfigurationKey,
    Connector,
    MeterValue,
    SecurityEvent,
    Station,
)
from supervision.api import CompanyScopedSerializerMixin, ModelValidationMixin


class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = ["connector_id", "status", "error_code", "info", "vendor_error_code", "updated_at"]


class StationSerializer(
    CompanyScopedSerializerMixin, ModelValidationMixin, serializers.ModelSerializer
):
    connectors = ConnectorSerializer(many=True, read_only=True)

    class Meta:
        model = Station
        fields = [
            "id",
            "charge_point_id",
            "name",
            "company",
            "auth_mode",
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
            "connectors",
            "created_at",
        ]
        # The station itself reports these, at BootNotification and while connected, and the
        # station operations keep the rest up to date.
        read_only_fields = [
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
        ]


class ConfigurationKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ConfigurationKey
        fields = ["key", "value", "readonly", "read_at"]


class MeterValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterValue
        fields = ["timestamp", "measurand", "value", "unit", "phase", "context", "location"]


class ChargingSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChargingSession
        fields = [
            "transaction_id",
            "station",
            "connector_id",
            "id_tag",
            "badge",
            "vehicle",
            "company",
            "auth_method",
            "authorization_status",
            "authorization_reason",
            "meter_start",
            "meter_stop",
            "energy_wh",
            "started_at",
            "stopped_at",
            "stop_reason",
        ]


class ChargingSessionDetailSerializer(ChargingSessionSerializer):
    meter_values = MeterValueSerializer(many=True, read_only=True)

    class Meta(ChargingSessionSerializer.Meta):
        fields = [*ChargingSessionSerializer.Meta.fields, "meter_values"]


class SecurityEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityEvent
        fields = [
            "id",
            "kind",
            "severity",
            "station",
            "id_tag",
            "details",
            "created_at",
            "notified",
        ]

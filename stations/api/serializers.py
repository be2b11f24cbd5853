from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from stations.models import (
    AutochargeProfile,
    AutochargeSetting,
    ChargingSession,
    ConfigurationKey,
    Connector,
    DeviceModelVariable,
    MeterValue,
    SecurityEvent,
    SessionCorrection,
    Station,
)
from stations.services import (
    autocharge_profile_save,
    station_password_validate,
    station_save,
    station_set_password,
)
from supervision.api import (
    CompanyScopedSerializerMixin,
    ModelValidationMixin,
    WrittenThroughServiceSerializerMixin,
)
from supervision.tenancy import is_superuser

_UNSET = object()


class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = ["connector_id", "status", "error_code", "info", "vendor_error_code", "updated_at"]


class StationSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    connectors = ConnectorSerializer(many=True, read_only=True)
    basic_auth_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        error_messages={"blank": _("Send null to remove the password.")},
        help_text=_(
            "Write-only. Sets or rotates the password the station must present with HTTP Basic "
            "authentication (16 to 40 printable ASCII characters; only its hash is kept); null "
            "removes it."
        ),
    )
    has_password = serializers.BooleanField(read_only=True)

    class Meta:
        model = Station
        fields = [
            "id",
            "charge_point_id",
            "name",
            "company",
            "auth_mode",
            "basic_auth_password",
            "has_password",
            "vendor",
            "model",
            "serial_number",
            "firmware_version",
            "ocpp_version",
            "last_boot_reason",
            "firmware_status",
            "log_status",
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
            "site",
            "max_power_kw",
            "rejects_profiles",
            "connectors",
            "archived_at",
            "created_at",
        ]
        # The station itself reports these, at BootNotification and while connected, and the
        # station operations keep the rest up to date.
        read_only_fields = [
            "vendor",
            "model",
            "serial_number",
            "firmware_version",
            "ocpp_version",
            "last_boot_reason",
            "firmware_status",
            "log_status",
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
            "rejects_profiles",
        ]

    def validate_basic_auth_password(self, value: str | None) -> str | None:
        if value is not None:
            try:
                station_password_validate(value)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from None
        return value

    def validate(self, attrs):
        # Not a model field: kept out of the model's own validation.
        password = attrs.pop("basic_auth_password", _UNSET)
        attrs = super().validate(attrs)
        if password is not _UNSET:
            attrs["basic_auth_password"] = password
        return attrs

    def save_through(self, instance, many_to_many):
        return station_save(station=instance)

    @transaction.atomic
    def create(self, validated_data):
        password = validated_data.pop("basic_auth_password", _UNSET)
        station = super().create(validated_data)
        if password is not _UNSET:
            station_set_password(station=station, password=password)
        return station

    @transaction.atomic
    def update(self, instance, validated_data):
        password = validated_data.pop("basic_auth_password", _UNSET)
        station = super().update(instance, validated_data)
        if password is not _UNSET:
            station_set_password(station=station, password=password)
        return station


class ConfigurationKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ConfigurationKey
        fields = ["key", "value", "readonly", "read_at"]


class DeviceModelVariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModelVariable
        fields = [
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
            "value",
            "mutability",
            "characteristics",
            "read_at",
        ]


class MeterValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterValue
        fields = ["timestamp", "measurand", "value", "unit", "phase", "context", "location"]


class SessionCorrectionSerializer(serializers.ModelSerializer):
    corrected_by = serializers.StringRelatedField()

    class Meta:
        model = SessionCorrection
        fields = [
            "kind",
            "reason",
            "corrected_by",
            "corrected_at",
            "energy_wh_before",
            "energy_wh_after",
            "stopped_at_before",
            "stopped_at_after",
        ]


class ChargingSessionSerializer(serializers.ModelSerializer):
    corrections = SessionCorrectionSerializer(many=True, read_only=True)

    class Meta:
        model = ChargingSession
        fields = [
            "transaction_id",
            "station_transaction_id",
            "station",
            "connector_id",
            "id_tag",
            "badge",
            "vehicle",
            "company",
            "badge_rfid",
            "badge_visual_number",
            "usage",
            "badge_mode",
            "vehicle_plate",
            "company_name",
            "station_company_name",
            "auth_method",
            "authorization_status",
            "authorization_reason",
            "meter_start",
            "meter_stop",
            "energy_wh",
            "cost",
            "cost_currency",
            "tariff",
            "tariff_price_per_kwh",
            "tariff_session_fee",
            "started_at",
            "stopped_at",
            "stop_reason",
            "corrections",
        ]


class SessionCloseSerializer(serializers.Serializer):
    """Close a session the station never ended."""

    reason = serializers.CharField(help_text=_("Why: kept with the correction."))
    energy_wh = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("The energy, if known (Wh).")
    )
    stopped_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("When it ended; now by default.")
    )


class SessionCorrectSerializer(serializers.Serializer):
    """Correct a closed session's energy."""

    reason = serializers.CharField(help_text=_("Why: kept with the correction."))
    energy_wh = serializers.IntegerField(
        allow_null=True, help_text=_("The energy (Wh); null: count none.")
    )


class ChargingSessionDetailSerializer(ChargingSessionSerializer):
    meter_values = MeterValueSerializer(many=True, read_only=True)

    class Meta(ChargingSessionSerializer.Meta):
        fields = [*ChargingSessionSerializer.Meta.fields, "meter_values"]


class SecurityEventSerializer(serializers.ModelSerializer):
    """``other_companies_details`` (what the event names of other companies) is there for
    superusers only."""

    class Meta:
        model = SecurityEvent
        fields = [
            "id",
            "kind",
            "severity",
            "station",
            "id_tag",
            "details",
            "other_companies_details",
            "created_at",
            "notified",
        ]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if not is_superuser(getattr(request, "user", None)):
            del fields["other_companies_details"]
        return fields


class AutochargeSettingSerializer(
    CompanyScopedSerializerMixin, ModelValidationMixin, serializers.ModelSerializer
):
    class Meta:
        model = AutochargeSetting
        fields = ["id", "profile", "key", "component", "variable", "value", "mode"]


class AutochargeProfileSerializer(
    WrittenThroughServiceSerializerMixin, ModelValidationMixin, serializers.ModelSerializer
):
    settings = AutochargeSettingSerializer(many=True, read_only=True)

    def save_through(self, instance, many_to_many):
        return autocharge_profile_save(profile=instance)

    class Meta:
        model = AutochargeProfile
        fields = [
            "id",
            "vendor",
            "model",
            "firmware_version",
            "push_on_boot",
            "repair_drift",
            "notes",
            "settings",
        ]

from rest_framework import serializers

from badges import access
from badges.identifiers import mac_of
from badges.models import Badge, PairingWindow, SharedMacModel, UnknownVehicle
from badges.services import MAX_CONNECTOR_ID, check_shared_mac
from fleet.models import Vehicle
from supervision.api import (
    CompanyScopedSerializerMixin,
    ModelValidationMixin,
    WrittenThroughServiceSerializerMixin,
    service_errors,
)

# How many OCPP log entries an inbox entry lists, newest first.
LOG_ENTRIES_SHOWN = 20


class BadgeSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    """A badge. Tying a ``VID:`` tag to a vehicle of a shared-MAC model line (creating it, or
    changing its RFID or vehicle) is refused with ``{"acknowledge_shared_mac": [message]}``
    unless the request sends ``"acknowledge_shared_mac": true``."""

    is_autocharge = serializers.BooleanField(read_only=True)
    mac = serializers.CharField(read_only=True, allow_null=True)
    enrolled_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledge_shared_mac = serializers.BooleanField(write_only=True, default=False)

    class Meta:
        model = Badge
        fields = [
            "id",
            "rfid",
            "visual_number",
            "type",
            "state",
            "provider",
            "description",
            "usage",
            "mode",
            "company",
            "vehicle",
            "groups",
            "expires_at",
            "is_autocharge",
            "mac",
            "enrolled_via",
            "enrolled_by",
            "archived_at",
            "created_at",
            "updated_at",
            "acknowledge_shared_mac",
        ]
        read_only_fields = ["enrolled_via"]

    def validate(self, attrs):
        acknowledged = attrs.pop("acknowledge_shared_mac", False)
        attrs = super().validate(attrs)
        instance = self.instance
        rfid = attrs.get("rfid", instance.rfid if instance else "")
        vehicle = attrs["vehicle"] if "vehicle" in attrs else getattr(instance, "vehicle", None)
        # Only a new tie between a MAC and a vehicle needs the acknowledgement: disabling or
        # describing an existing badge does not.
        tie_changed = instance is None or (rfid, vehicle) != (instance.rfid, instance.vehicle)
        if vehicle is not None and mac_of(rfid) is not None and tie_changed:
            with service_errors():
                check_shared_mac(vehicle=vehicle, acknowledged=acknowledged)
        return attrs

    def save_through(self, instance, many_to_many):
        return access.badge_save(badge=instance, groups=many_to_many.get("groups"))


class UnknownVehicleSerializer(serializers.ModelSerializer):
    """An inbox entry. ``stations`` and ``log_entries`` read the sightings the view prefetched
    (``station_sightings``: the latest per station; ``recent_sightings``: the newest logged)."""

    stations = serializers.SerializerMethodField()
    log_entries = serializers.SerializerMethodField()
    locally_administered = serializers.BooleanField(read_only=True)

    class Meta:
        model = UnknownVehicle
        fields = [
            "id",
            "company",
            "mac",
            "id_tag",
            "first_seen_at",
            "last_seen_at",
            "attempts",
            "last_reason",
            "stations",
            "status",
            "vendor_hint",
            "locally_administered",
            "badge",
            "dismissed_reason",
            "log_entries",
        ]
        read_only_fields = fields

    def get_stations(self, entry: UnknownVehicle) -> list[str]:
        return [sighting.station.charge_point_id for sighting in entry.station_sightings]

    def get_log_entries(self, entry: UnknownVehicle) -> list[str]:
        return [str(sighting.log_entry_id) for sighting in entry.recent_sightings]


class UnknownVehicleEnrolSerializer(CompanyScopedSerializerMixin, serializers.Serializer):
    """``POST …/enrol/``. A vehicle of a shared-MAC model line is refused with
    ``{"acknowledge_shared_mac": [message]}`` unless ``acknowledge_shared_mac`` is true."""

    vehicle = serializers.PrimaryKeyRelatedField(queryset=Vehicle.objects.select_related("company"))
    acknowledge_shared_mac = serializers.BooleanField(default=False)


class UnknownVehicleDismissSerializer(serializers.Serializer):
    """``POST …/dismiss/``. The service refuses an empty reason (``{"reason": [message]}``)."""

    reason = serializers.CharField(allow_blank=True)


class PairingWindowSerializer(serializers.ModelSerializer):
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = PairingWindow
        fields = [
            "id",
            "station",
            "connector_id",
            "vehicle",
            "opened_by",
            "opened_at",
            "expires_at",
            "closed_at",
            "status",
            "badge",
        ]
        read_only_fields = fields


class PairingOpenSerializer(CompanyScopedSerializerMixin, serializers.Serializer):
    """``POST /stations/{id}/pairing/``. ``minutes`` defaults to
    ``settings.AUTOCHARGE_PAIRING_MINUTES``; the service checks its range (``{"minutes": …}``),
    the station against the vehicle's company (``{"vehicle": …}``) and the shared-MAC model
    lines (``{"acknowledge_shared_mac": …}``)."""

    vehicle = serializers.PrimaryKeyRelatedField(queryset=Vehicle.objects.select_related("company"))
    minutes = serializers.IntegerField(allow_null=True, default=None)
    connector_id = serializers.IntegerField(
        allow_null=True, default=None, min_value=1, max_value=MAX_CONNECTOR_ID
    )
    acknowledge_shared_mac = serializers.BooleanField(default=False)


class SharedMacModelSerializer(ModelValidationMixin, serializers.ModelSerializer):
    class Meta:
        model = SharedMacModel
        fields = ["id", "make", "model", "note"]

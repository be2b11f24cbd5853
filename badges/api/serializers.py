from rest_framework import serializers

from badges.models import Badge
from supervision.api import ModelValidationMixin


class BadgeSerializer(ModelValidationMixin, serializers.ModelSerializer):
    is_autocharge = serializers.BooleanField(read_only=True)
    mac = serializers.CharField(read_only=True, allow_null=True)

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
            "created_at",
            "updated_at",
        ]

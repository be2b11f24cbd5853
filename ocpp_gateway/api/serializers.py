from rest_framework import serializers

from ocpp_gateway.models import OcppMessage


class OcppMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OcppMessage
        fields = [
            "id",
            "station",
            "charge_point_id",
            "direction",
            "message_type",
            "unique_id",
            "action",
            "status",
            "ocpp_status",
            "reason",
            "id_tag",
            "payload",
            "created_at",
        ]

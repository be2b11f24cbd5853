from rest_framework import serializers

from ocpp_gateway.commands import CommandInvalid, validate_command
from ocpp_gateway.models import Command, CommandAction, OcppMessage


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


class CommandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Command
        fields = [
            "id",
            "station",
            "action",
            "payload",
            "state",
            "ocpp_status",
            "response",
            "detail",
            "origin",
            "reason",
            "requested_by",
            "unique_id",
            "created_at",
            "sent_at",
            "completed_at",
        ]


class CommandRequestSerializer(serializers.Serializer):
    """``{"action": "GetConfiguration", "payload": {...}}``: the payload in OCPP's camelCase,
    checked against the action's OCPP 1.6 schema."""

    action = serializers.ChoiceField(choices=CommandAction.choices)
    payload = serializers.JSONField(required=False, default=dict)

    def validate(self, attrs):
        try:
            attrs["payload"] = validate_command(action=attrs["action"], payload=attrs["payload"])
        except CommandInvalid as invalid:
            raise serializers.ValidationError({invalid.field: [invalid.message]}) from None
        return attrs


class LocalListSyncSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        default=True, help_text="The whole list (default), or only what changed since the last."
    )

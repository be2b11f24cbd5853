from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway.models import Command, CommandAction, OcppMessage
from ocpp_gateway.operations.commands import (
    CommandInvalid,
    password_check,
    protocol_of,
    validate_command,
)
from ocpp_gateway.transport.message_log import redact, redact_answer, redact_request
from stations.api.serializers import StationSerializer


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

    def to_representation(self, instance):
        # Rows are stored redacted; this also covers rows logged before redaction existed.
        data = super().to_representation(instance)
        data["payload"] = redact(instance.message_type, instance.action, data["payload"])
        return data


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

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["payload"] = redact_request(instance.action, data["payload"])
        data["response"] = redact_answer(data["response"])
        return data


class CommandRequestSerializer(serializers.Serializer):
    """``{"action": "GetConfiguration", "payload": {...}}``: the payload in OCPP's camelCase,
    checked against the action's schema in the protocol of the station (``context``): OCPP 1.6
    and 2.0.1 stations take different actions."""

    action = serializers.ChoiceField(choices=CommandAction.choices)
    payload = serializers.JSONField(required=False, default=dict)

    def validate(self, attrs):
        try:
            attrs["payload"] = validate_command(
                action=attrs["action"],
                payload=attrs["payload"],
                version=protocol_of(self.context["station"]),
            )
        except CommandInvalid as invalid:
            raise serializers.ValidationError({invalid.field: [invalid.message]}) from None
        return attrs


class LocalListSyncSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        default=True, help_text="The whole list (default), or only what changed since the last."
    )


class OperatedStationSerializer(StationSerializer):
    """A station, and whether to send its new password to it as AuthorizationKey."""

    push_authorization_key = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=_(
            "Write-only. With basic_auth_password: once saved, send the password to the "
            "station (OCPP 1.6: ChangeConfiguration of AuthorizationKey, hexadecimal, at most "
            "20 characters; OCPP 2.0.1: SetVariables of SecurityCtrlr.BasicAuthPassword). The "
            "station must be connected, otherwise 409 and nothing changes."
        ),
    )

    class Meta(StationSerializer.Meta):
        fields = [*StationSerializer.Meta.fields, "push_authorization_key"]

    def validate(self, attrs):
        push = attrs.pop("push_authorization_key", False)
        attrs = super().validate(attrs)
        if push:
            password = attrs.get("basic_auth_password")
            if not password:
                raise serializers.ValidationError(
                    {
                        "push_authorization_key": [
                            _(
                                "Send the new password in basic_auth_password with it: the "
                                "stored one is only a hash and cannot be sent."
                            )
                        ]
                    }
                )
            try:
                password_check(station=self.instance, password=password)
            except CommandInvalid as invalid:
                raise serializers.ValidationError({invalid.field: [invalid.message]}) from None
        attrs["push_authorization_key"] = push
        return attrs

    def create(self, validated_data):
        validated_data.pop("push_authorization_key", None)
        return super().create(validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("push_authorization_key", None)
        return super().update(instance, validated_data)

from rest_framework import serializers

from supervision.api import (
    CompanyScopedSerializerMixin,
    ModelValidationMixin,
    WrittenThroughServiceSerializerMixin,
)
from webhooks import services
from webhooks.models import EventType, Webhook, WebhookDelivery


class WebhookSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False
    )
    # Readable by the webhook's company only (the API is scoped to it); generated when left out.
    secret = serializers.CharField(max_length=128, required=False, allow_blank=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "company",
            "url",
            "events",
            "secret",
            "active",
            "description",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["created_by", "created_at"]

    def save_through(self, instance, many_to_many):
        request = self.context.get("request")
        return services.webhook_save(webhook=instance, user=getattr(request, "user", None))


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "status_code",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields

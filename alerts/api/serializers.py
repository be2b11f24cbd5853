from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts import services
from alerts.models import AlertSubscription
from supervision.api import (
    CompanyScopedSerializerMixin,
    ModelValidationMixin,
    WrittenThroughServiceSerializerMixin,
)


class AlertSubscriptionSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    # Always the requesting user's own subscription.
    user = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = AlertSubscription
        fields = [
            "id",
            "user",
            "company",
            "station_offline",
            "offline_minutes",
            "connector_faulted",
            "unknown_vehicle",
            "daily_digest",
            "language",
            "active",
            "created_at",
        ]

    def validate_company(self, company):
        if self.instance is not None and company != self.instance.company:
            raise serializers.ValidationError(
                _("A subscription's company cannot change: subscribe to the other company.")
            )
        return company

    def save_through(self, instance, many_to_many):
        return services.alert_subscription_save(subscription=instance)

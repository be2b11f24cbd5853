from rest_framework import permissions, viewsets

from alerts import services
from alerts.api.serializers import AlertSubscriptionSerializer
from alerts.models import AlertSubscription
from supervision.api import CompanyScopedViewSetMixin
from supervision.history_api import ChangeHistoryViewSetMixin


class AlertSubscriptionViewSet(
    CompanyScopedViewSetMixin, ChangeHistoryViewSetMixin, viewsets.ModelViewSet
):
    """The requesting staff user's own e-mail alerts, one subscription per company: their own
    company's, or any company's for a superuser. Another user's subscription is a 404."""

    queryset = AlertSubscription.objects.select_related("company").order_by("pk")
    serializer_class = AlertSubscriptionSerializer
    # Every staff user manages their own alerts, whatever their model permissions.
    permission_classes = [permissions.IsAdminUser]
    filterset_fields = ["company", "active"]

    def get_queryset(self):
        return super().get_queryset().filter(user=self.request.user)

    def perform_destroy(self, instance):
        services.alert_subscription_delete(subscription=instance)

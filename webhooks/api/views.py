from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from supervision.api import (
    CompanyScopedViewSetMixin,
    DeletedThroughServiceMixin,
    action_permission,
)
from supervision.history_api import ChangeHistoryViewSetMixin
from webhooks import services
from webhooks.api.serializers import WebhookDeliverySerializer, WebhookSerializer
from webhooks.models import Webhook


class WebhookViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    """A company's webhooks: each event it subscribes to is POSTed to its URL, signed with its
    secret (``X-Autocharge-Signature: sha256=<HMAC-SHA256 of the body>``)."""

    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    filterset_fields = ["company", "active"]

    def delete_through(self, instance):
        services.webhook_delete(webhook=instance)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        serializer_class=WebhookDeliverySerializer,
        filter_backends=[],
        permission_classes=[action_permission("webhooks.view_webhookdelivery")],
    )
    def deliveries(self, request, pk=None):
        """The webhook's delivery log, newest first: status code, attempts, next try."""
        deliveries = self.get_object().deliveries.order_by("-created_at")
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        serializer_class=WebhookDeliverySerializer,
        permission_classes=[action_permission("webhooks.change_webhook")],
    )
    def test(self, request, pk=None):
        """Queue a ``webhook.test`` event for this webhook: its delivery, to follow in the log."""
        delivery = services.webhook_send_test(webhook=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

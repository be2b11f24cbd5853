from rest_framework import viewsets

from stations.api.serializers import (
    ChargingSessionDetailSerializer,
    ChargingSessionSerializer,
    StationSerializer,
)
from stations.models import ChargingSession, Station
from supervision.api import ProtectedDestroyMixin


class StationViewSet(ProtectedDestroyMixin, viewsets.ModelViewSet):
    queryset = Station.objects.prefetch_related("connectors")
    serializer_class = StationSerializer
    filterset_fields = ["company", "charge_point_id", "auth_mode", "connection_state"]


class ChargingSessionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ChargingSession.objects.all()
    filterset_fields = ["station", "vehicle", "company", "badge", "auth_method"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ChargingSessionDetailSerializer
        return ChargingSessionSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("meter_values")
        return queryset

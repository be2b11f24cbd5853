import django_filters
from django.utils.translation import gettext as _
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from badges.api.serializers import PairingOpenSerializer, PairingWindowSerializer
from badges.api.views import filter_id_tag
from badges.models import PairingOutcome
from badges.services import pairing_cancel, pairing_open
from stations.api.serializers import (
    AutochargeProfileSerializer,
    AutochargeSettingSerializer,
    ChargingSessionDetailSerializer,
    ChargingSessionSerializer,
    SecurityEventSerializer,
    StationSerializer,
)
from stations.models import (
    AutochargeProfile,
    AutochargeSetting,
    ChargingSession,
    SecurityEvent,
    Station,
)
from supervision.api import (
    CompanyScopedViewSetMixin,
    ProtectedDestroyMixin,
    action_permission,
    service_errors,
)


class StationViewSet(CompanyScopedViewSetMixin, ProtectedDestroyMixin, viewsets.ModelViewSet):
    """Stations. ``pairing`` (arm with POST, disarm with DELETE) changes the station and may
    make a badge: it needs ``stations.change_station`` and ``badges.add_badge``."""

    queryset = Station.objects.prefetch_related("connectors")
    serializer_class = StationSerializer
    filterset_fields = ["company", "charge_point_id", "auth_mode", "connection_state"]

    @action(
        detail=True,
        methods=["post", "delete"],
        serializer_class=PairingOpenSerializer,
        permission_classes=[action_permission("stations.change_station", "badges.add_badge")],
    )
    def pairing(self, request, pk=None):
        """POST: arm the station for a vehicle → 201, the window. DELETE: close the open
        window → 200, the window; 404 when none is open (an expired one is closed as such)."""
        station = self.get_object()
        if request.method == "DELETE":
            window = pairing_cancel(station=station)
            if window is None or window.outcome != PairingOutcome.CANCELLED:
                raise NotFound(_("No pairing window is open at this station."))
            return Response(PairingWindowSerializer(window).data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            window = pairing_open(
                station=station, opened_by=request.user, **serializer.validated_data
            )
        return Response(PairingWindowSerializer(window).data, status=status.HTTP_201_CREATED)


class ChargingSessionViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
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


class SecurityEventFilter(django_filters.FilterSet):
    id_tag = django_filters.CharFilter(method=filter_id_tag)

    class Meta:
        model = SecurityEvent
        fields = ["kind", "severity", "station", "id_tag"]


class SecurityEventViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SecurityEvent.objects.all()
    serializer_class = SecurityEventSerializer
    filterset_class = SecurityEventFilter


class AutochargeProfileViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    """How each vendor's stations turn Autocharge on (product knowledge, the same for every
    company: staff read it, superusers change it). Its settings are their own resource."""

    queryset = AutochargeProfile.objects.prefetch_related("settings")
    serializer_class = AutochargeProfileSerializer
    filterset_fields = ["vendor"]


class AutochargeSettingViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    """One configuration key (OCPP 1.6) or device-model component and variable (OCPP 2.0.1)
    that a profile sets."""

    queryset = AutochargeSetting.objects.all()
    serializer_class = AutochargeSettingSerializer
    filterset_fields = ["profile"]

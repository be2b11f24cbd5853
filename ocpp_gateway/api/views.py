import django_filters
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from badges.api.views import filter_id_tag
from ocpp_gateway.api.serializers import (
    CommandRequestSerializer,
    CommandSerializer,
    LocalListSyncSerializer,
    OcppMessageSerializer,
    OperatedStationSerializer,
)
from ocpp_gateway.models import Command, OcppMessage
from ocpp_gateway.operations.commands import StationNotConnected, command_send, password_command
from ocpp_gateway.operations.staff_requests import autocharge_enable, local_list_sync
from stations.api.serializers import (
    ConfigurationKeySerializer,
    DeviceModelVariableSerializer,
    StationSerializer,
)
from stations.api.views import StationViewSet
from stations.models import AutochargeReadiness, ConnectionState, Station
from supervision.api import CompanyScopedViewSetMixin
from supervision.permissions import StaffModelPermissions, StaffPermission


class OcppMessageFilter(django_filters.FilterSet):
    id_tag = django_filters.CharFilter(method=filter_id_tag)

    class Meta:
        model = OcppMessage
        fields = ["station", "charge_point_id", "action", "status", "id_tag", "direction", "reason"]


class OcppMessageViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = OcppMessage.objects.all()
    serializer_class = OcppMessageSerializer
    filterset_class = OcppMessageFilter


class CommandViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Command.objects.all()
    serializer_class = CommandSerializer
    filterset_fields = ["station", "action", "state", "origin"]


class StationOffline(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "station_offline"


class CanOperateStations(StaffPermission):
    """Sending anything to a station is adding a command."""

    permission = "ocpp_gateway.add_command"


_PUSH_CONFLICT = OpenApiResponse(
    description="push_authorization_key, and the station is not connected: nothing changed."
)


@extend_schema_view(
    create=extend_schema(responses={201: OperatedStationSerializer, 409: _PUSH_CONFLICT}),
    update=extend_schema(responses={200: OperatedStationSerializer, 409: _PUSH_CONFLICT}),
    partial_update=extend_schema(responses={200: OperatedStationSerializer, 409: _PUSH_CONFLICT}),
)
class OperatedStationViewSet(StationViewSet):
    """Stations, plus the operations only the gateway can carry out (the stations app does not
    know OCPP, so they are added here), among them sending a new password to the station."""

    serializer_class = OperatedStationSerializer

    def perform_create(self, serializer):
        self._save_and_push(serializer)

    def perform_update(self, serializer):
        self._save_and_push(serializer)

    def _save_and_push(self, serializer) -> None:
        """Save; with ``push_authorization_key``, send the new password to the station in the
        same transaction, so a station that is not connected leaves everything unchanged."""
        if not serializer.validated_data.get("push_authorization_key"):
            serializer.save()
            return
        station: Station | None = serializer.instance
        if station is None or station.connection_state != ConnectionState.CONNECTED:
            raise StationOffline(self._not_sent(station))
        password = serializer.validated_data["basic_auth_password"]
        try:
            with transaction.atomic():
                station = serializer.save()
                action, payload = password_command(station=station, password=password)
                command_send(
                    station=station,
                    action=action,
                    payload=payload,
                    requested_by=self.request.user,
                )
        except StationNotConnected:  # it went away meanwhile: everything rolled back
            raise StationOffline(self._not_sent(station)) from None

    @staticmethod
    def _not_sent(station: Station | None) -> str:
        if station is None:
            return _("A new station is not connected yet: its password cannot be sent to it.")
        return _(
            "%(station)s is not connected: the password cannot be sent to it. Nothing was changed."
        ) % {"station": station.charge_point_id}

    @extend_schema(
        request=CommandRequestSerializer,
        responses={
            202: CommandSerializer,
            400: OpenApiResponse(description="Unknown action, or a payload failing its schema."),
            409: OpenApiResponse(description="The station is not connected."),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanOperateStations])
    def commands(self, request, pk=None):
        """Send a command in the station's protocol (OCPP 1.6 or 2.0.1: ``ocpp_version``); its
        answer shows on ``/commands/{id}/``."""
        station = self.get_object()
        serializer = CommandRequestSerializer(data=request.data, context={"station": station})
        serializer.is_valid(raise_exception=True)
        try:
            command = command_send(
                station=station, requested_by=request.user, **serializer.validated_data
            )
        except StationNotConnected as offline:
            return Response(
                {"detail": str(offline), "command": CommandSerializer(offline.command).data},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(CommandSerializer(command).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={
            202: StationSerializer,
            200: StationSerializer,
            409: OpenApiResponse(description="The station is not connected."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="autocharge/enable",
        permission_classes=[CanOperateStations],
    )
    def enable_autocharge(self, request, pk=None):
        """Read the configuration, push what the vendor's profile says, read it back:
        ``autocharge_readiness`` is ``checking`` (202) until it ends, or ``no_profile`` (200)."""
        station = self.get_object()
        try:
            readiness = autocharge_enable(station=station, requested_by=request.user)
        except StationNotConnected as offline:
            raise StationOffline(str(offline)) from None
        station.refresh_from_db()
        code = (
            status.HTTP_202_ACCEPTED
            if readiness == AutochargeReadiness.CHECKING
            else status.HTTP_200_OK
        )
        return Response(StationSerializer(station).data, status=code)

    @extend_schema(request=LocalListSyncSerializer, responses={202: StationSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="local-list/sync",
        permission_classes=[CanOperateStations],
    )
    def sync_local_list(self, request, pk=None):
        """Send the station the badges permitted on it as its local authorization list."""
        station = self.get_object()
        serializer = LocalListSyncSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            local_list_sync(
                station=station, requested_by=request.user, full=serializer.validated_data["full"]
            )
        except StationNotConnected as offline:
            raise StationOffline(str(offline)) from None
        station.refresh_from_db()
        return Response(StationSerializer(station).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ConfigurationKeySerializer(many=True))
    @action(detail=True, methods=["get"], permission_classes=[StaffModelPermissions])
    def configuration(self, request, pk=None):
        """The station's configuration as its last GetConfiguration answer reported it."""
        station = self.get_object()
        keys = station.configuration_keys.all()
        return Response(ConfigurationKeySerializer(keys, many=True).data)

    @extend_schema(responses=DeviceModelVariableSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        url_path="device-model",
        permission_classes=[StaffModelPermissions],
    )
    def device_model(self, request, pk=None):
        """An OCPP 2.0.1 station's device model as it last reported it (NotifyReport after a
        GetBaseReport, GetVariables, NotifyEvent)."""
        station = self.get_object()
        variables = station.device_model.all()
        return Response(DeviceModelVariableSerializer(variables, many=True).data)

"""``/api/v1/reservations/``: list, read, make (ReserveNow to the station) and cancel
(CancelReservation). In the gateway's API because making and cancelling send to stations."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from badges.models import Badge, Reservation
from ocpp_gateway.api.views import StationOffline
from ocpp_gateway.operations.commands import CommandInvalid, StationNotConnected
from ocpp_gateway.operations.reservations import cancel, reserve
from stations.models import Station
from stations.reservations import stations_chargeable_by
from supervision import tenancy
from supervision.api import (
    CompanyScopedSerializerMixin,
    CompanyScopedViewSetMixin,
    action_permission,
    service_errors,
)


class ReservationSerializer(CompanyScopedSerializerMixin, serializers.ModelSerializer):
    """A reservation. Written: ``station`` (one where the badge's company may charge),
    ``connector_id`` (0: any connector), ``badge`` (one of the company's), ``expires_at``
    and, for OCPP 2.0.1 stations, ``connector_type``; the rest is read-only."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    station = serializers.PrimaryKeyRelatedField(queryset=Station.objects.all())
    badge = serializers.PrimaryKeyRelatedField(queryset=Badge.objects.all())

    class Meta:
        model = Reservation
        fields = [
            "id",
            "station",
            "connector_id",
            "connector_type",
            "badge",
            "reservation_id",
            "expires_at",
            "status",
            "detail",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "reservation_id",
            "status",
            "detail",
            "created_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"connector_id": {"min_value": 0}}

    def get_fields(self):
        fields = super().get_fields()  # the company's badges and stations
        user = getattr(self.context.get("request"), "user", None)
        if not tenancy.is_superuser(user):
            # Not only its own stations: also those its groups may charge at.
            fields["station"].queryset = stations_chargeable_by(tenancy.company_of(user))
        return fields


class ReservationViewSet(
    CompanyScopedViewSetMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Reservations of the company's badges. ``POST`` reserves: 201 with the reservation
    ``requested`` (the station's answer follows in ``status``), 400 for what the rules refuse,
    409 when the station is not connected (nothing recorded). ``POST {id}/cancel/``: cancelled
    here at once and at the station if it is connected; 409 for one that no longer holds."""

    queryset = Reservation.objects.select_related("created_by")
    serializer_class = ReservationSerializer
    filterset_fields = ["station", "badge", "connector_id", "status"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            with service_errors():
                serializer.instance = reserve(
                    station=data["station"],
                    badge=data["badge"],
                    connector_id=data["connector_id"],
                    expires_at=data["expires_at"],
                    connector_type=data.get("connector_type", ""),
                    requested_by=self.request.user,
                )
        except CommandInvalid as invalid:
            raise serializers.ValidationError({"non_field_errors": [invalid.message]}) from None
        except StationNotConnected as offline:
            raise StationOffline(
                _("%(station)s is not connected: nothing was reserved.")
                % {"station": offline.station}
            ) from None

    @extend_schema(
        request=None,
        responses={
            200: ReservationSerializer,
            409: OpenApiResponse(description="The reservation no longer holds."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[action_permission("badges.change_reservation")],
    )
    def cancel(self, request, pk=None):
        reservation = self.get_object()
        if not reservation.holds():
            return Response(
                {"detail": _("This reservation no longer holds: nothing to cancel.")},
                status=status.HTTP_409_CONFLICT,
            )
        cancel(reservation=reservation, requested_by=request.user)
        reservation.refresh_from_db()
        return Response(ReservationSerializer(reservation, context={"request": request}).data)

import django_filters
from django.db.models import F, Prefetch, Window
from django.db.models.functions import RowNumber
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from badges.api.serializers import (
    LOG_ENTRIES_SHOWN,
    BadgeSerializer,
    PairingWindowSerializer,
    SharedMacModelSerializer,
    UnknownVehicleDismissSerializer,
    UnknownVehicleEnrolSerializer,
    UnknownVehicleSerializer,
)
from badges.identifiers import IdTagError, normalize_id_tag
from badges.models import Badge, PairingWindow, SharedMacModel, UnknownVehicle, VehicleSighting
from badges.services import unknown_vehicle_dismiss, unknown_vehicle_enrol
from stations.models import Station
from supervision.api import (
    CompanyScopedViewSetMixin,
    ProtectedDestroyMixin,
    action_permission,
    service_errors,
)
from supervision.history_api import ChangeHistoryViewSetMixin
from supervision.tenancy import scope


def filter_id_tag(queryset, name: str, value: str):
    """Match a tag the way stations are matched: ``vid:a0:14:…`` finds ``VID:A014…``."""
    try:
        value = normalize_id_tag(value)
    except IdTagError:
        value = value.strip().upper()
    return queryset.filter(**{name: value})


class BadgeFilter(django_filters.FilterSet):
    rfid = django_filters.CharFilter(method=filter_id_tag)

    class Meta:
        model = Badge
        fields = ["rfid", "state", "type", "company", "vehicle", "mode", "usage"]


class BadgeViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ProtectedDestroyMixin,
    viewsets.ModelViewSet,
):
    queryset = Badge.objects.select_related("enrolled_by").prefetch_related("groups")
    serializer_class = BadgeSerializer
    filterset_class = BadgeFilter


class UnknownVehicleFilter(django_filters.FilterSet):
    station = django_filters.ModelChoiceFilter(
        field_name="sightings__station", queryset=Station.objects.all(), distinct=True
    )

    class Meta:
        model = UnknownVehicle
        fields = ["status", "station"]


def unknown_vehicles_with_sightings(sightings=None):
    """Inbox entries with what their ``sightings`` (default: all) tell, in two queries per page
    whatever its length or the entries' attempts: the latest sighting per station, the newest
    logged ones."""
    sightings = VehicleSighting.objects.all() if sightings is None else sightings
    latest_per_station = (
        sightings.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("unknown_vehicle"), F("station")],
                order_by=[F("seen_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank=1)
        .select_related("station")
        .only("unknown_vehicle", "seen_at", "station__charge_point_id")
        .order_by("-seen_at", "-pk")
    )
    recent_logged = (
        sightings.filter(log_entry_id__isnull=False)
        .only("unknown_vehicle", "seen_at", "log_entry_id")
        .order_by("-seen_at", "-pk")[:LOG_ENTRIES_SHOWN]
    )
    return UnknownVehicle.objects.prefetch_related(
        Prefetch("sightings", queryset=latest_per_station, to_attr="station_sightings"),
        Prefetch("sightings", queryset=recent_logged, to_attr="recent_sightings"),
    )


class UnknownVehicleViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The inbox. Its actions change the entry: both need ``badges.change_unknownvehicle``,
    ``enrol`` also ``badges.add_badge``."""

    queryset = unknown_vehicles_with_sightings()
    serializer_class = UnknownVehicleSerializer
    filterset_class = UnknownVehicleFilter

    def get_queryset(self):
        # Only what was seen at stations the user sees: where else a MAC was presented is
        # other companies' business.
        sightings = scope(VehicleSighting.objects.all(), self.request.user)
        return scope(unknown_vehicles_with_sightings(sightings), self.request.user)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=UnknownVehicleEnrolSerializer,
        permission_classes=[action_permission("badges.change_unknownvehicle", "badges.add_badge")],
    )
    def enrol(self, request, pk=None):
        """Enrol the entry's MAC as the vehicle's badge → 201, the badge with ``warnings``."""
        entry = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            enrolment = unknown_vehicle_enrol(
                entry=entry, enrolled_by=request.user, **serializer.validated_data
            )
        body = {**BadgeSerializer(enrolment.badge).data, "warnings": enrolment.warnings}
        return Response(body, status=status.HTTP_201_CREATED)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=UnknownVehicleDismissSerializer,
        permission_classes=[action_permission("badges.change_unknownvehicle")],
    )
    def dismiss(self, request, pk=None):
        """Not a fleet vehicle: leave the open list → 200, the entry."""
        entry = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            unknown_vehicle_dismiss(
                entry=entry, dismissed_by=request.user, **serializer.validated_data
            )
        return Response(UnknownVehicleSerializer(self.get_object()).data)


class PairingWindowViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PairingWindow.objects.select_related("opened_by")
    serializer_class = PairingWindowSerializer
    filterset_fields = ["station", "vehicle"]


class SharedMacModelViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = SharedMacModel.objects.all()
    serializer_class = SharedMacModelSerializer

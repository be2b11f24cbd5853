import django_filters
from django.db.models import F, Prefetch, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from badges.api.serializers import (
    LOG_ENTRIES_SHOWN,
    BadgeSerializer,
    PairingOpenSerializer,
    PairingWindowSerializer,
    UnknownVehicleDismissSerializer,
    UnknownVehicleEnrolSerializer,
    UnknownVehicleSerializer,
)
from badges.api.views import filter_id_tag
from badges.models import BadgeUsage, PairingOutcome, UnknownVehicle, VehicleSighting
from badges.services import unknown_vehicle_dismiss
from stations.api.serializers import (
    AutochargeProfileSerializer,
    AutochargeSettingSerializer,
    ChargingSessionDetailSerializer,
    ChargingSessionSerializer,
    SecurityEventSerializer,
    SessionCloseSerializer,
    SessionCorrectSerializer,
    StationSerializer,
)
from stations.enrolment import pairing_cancel, pairing_open, unknown_vehicle_enrol
from stations.models import (
    AuthMethod,
    AutochargeProfile,
    AutochargeSetting,
    ChargingSession,
    SecurityEvent,
    Station,
)
from stations.services import (
    autocharge_profile_delete,
    session_close_by_staff,
    session_correct_energy,
    station_delete,
)
from supervision.api import (
    CompanyScopedViewSetMixin,
    DeletedThroughServiceMixin,
    ProtectedDestroyMixin,
    action_permission,
    service_errors,
)
from supervision.archiving_api import ArchiveInsteadOfDestroyMixin
from supervision.history_api import ChangeHistoryViewSetMixin
from supervision.pagination import BoundedPageSizePagination


class StationViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ArchiveInsteadOfDestroyMixin,
    ProtectedDestroyMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    """Stations. ``pairing`` (arm with POST, disarm with DELETE) changes the station and may
    make a badge: it needs ``stations.change_station`` and ``badges.add_badge``."""

    queryset = Station.objects.all()
    serializer_class = StationSerializer
    filterset_fields = ["company", "charge_point_id", "auth_mode", "connection_state"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("list", "retrieve", "update", "partial_update"):
            # The station's representation lists its connectors; an operation on the station
            # (a command, a pairing window) reads none: a query less on a command's path.
            queryset = queryset.prefetch_related("connectors")
        return queryset

    def delete_through(self, instance):
        station_delete(station=instance)

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


def _moment_filter(field_name: str, lookup_expr: str, help_text) -> django_filters.Filter:
    return django_filters.IsoDateTimeFilter(
        field_name=field_name,
        lookup_expr=lookup_expr,
        help_text=help_text,
        error_messages={
            "invalid": _lazy(
                "Enter an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T08:00:00+01:00."
            )
        },
    )


class StableOrderingFilter(django_filters.OrderingFilter):
    """The client's order, sessions without the value (an open one's ``stopped_at``) last on
    every database, then the transaction id: pages never share or skip a session whose sort
    value ties with another's."""

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = []
        for param in value:
            name = self.get_ordering_value(param)
            if name.startswith("-"):
                ordering.append(F(name[1:]).desc(nulls_last=True))
            else:
                ordering.append(F(name).asc(nulls_last=True))
        return qs.order_by(*ordering, "-transaction_id")


class ChargingSessionFilter(django_filters.FilterSet):
    """Moments are ISO 8601; a date alone is its midnight, and a moment without an offset is
    the server's time zone. ``started_after`` and ``stopped_after`` include their bound,
    ``started_before`` excludes it: ``started_after=2026-03-01&started_before=2026-04-01`` is
    March."""

    started_after = _moment_filter(
        "started_at", "gte", _lazy("Sessions started at or after this moment (included).")
    )
    started_before = _moment_filter(
        "started_at", "lt", _lazy("Sessions started before this moment (excluded).")
    )
    stopped_after = _moment_filter(
        "stopped_at", "gte", _lazy("Sessions stopped at or after this moment (included).")
    )
    usage = django_filters.ChoiceFilter(
        choices=BadgeUsage.choices, help_text=_lazy("The usage recorded from the badge.")
    )
    auth_method = django_filters.ChoiceFilter(choices=AuthMethod.choices)
    ordering = StableOrderingFilter(
        fields=["started_at", "stopped_at", "energy_wh", "transaction_id"],
        help_text=_lazy(
            "Sort by started_at, stopped_at, energy_wh or transaction_id, several separated by "
            "commas; a leading - reverses; sessions without the value come last. Default: "
            "-started_at."
        ),
    )

    class Meta:
        model = ChargingSession
        fields = ["station", "vehicle", "company", "badge"]


class ChargingSessionViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Sessions, as the stations reported them. ``close`` (a session the station never
    ended) and ``correct`` (a closed session's energy) need
    ``stations.correct_chargingsession``; each is recorded in the session's ``corrections``
    with who, when and why, and the station's readings stay as they were.

    The list filters by period (``started_after``, ``started_before``, ``stopped_after``),
    ``usage`` and ``auth_method``, sorts by ``ordering`` and pages by ``page_size`` (1 to 500):
    a value it cannot read is a 400 naming the parameter, never ignored."""

    queryset = ChargingSession.objects.prefetch_related("corrections__corrected_by")
    filterset_class = ChargingSessionFilter
    pagination_class = BoundedPageSizePagination

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ChargingSessionDetailSerializer
        if self.action == "close":
            return SessionCloseSerializer
        if self.action == "correct":
            return SessionCorrectSerializer
        return ChargingSessionSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("meter_values")
        return queryset

    def _corrected(self, request, service) -> Response:
        session = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            service(session=session, user=request.user, **serializer.validated_data)
        session = self.get_queryset().get(pk=session.pk)
        return Response(ChargingSessionSerializer(session, context={"request": request}).data)

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[action_permission("stations.correct_chargingsession")],
    )
    def close(self, request, pk=None):
        """Close a session the station never ended: ``reason`` (required), ``energy_wh`` and
        ``stopped_at`` (optional) → 200, the session; 409 when it is already closed."""
        return self._corrected(request, session_close_by_staff)

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[action_permission("stations.correct_chargingsession")],
    )
    def correct(self, request, pk=None):
        """Correct a closed session's energy: ``reason`` and ``energy_wh`` (null: none) → 200,
        the session; 409 while it is open."""
        return self._corrected(request, session_correct_energy)


class SecurityEventFilter(django_filters.FilterSet):
    id_tag = django_filters.CharFilter(method=filter_id_tag)

    class Meta:
        model = SecurityEvent
        fields = ["kind", "severity", "station", "id_tag"]


class SecurityEventViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SecurityEvent.objects.all()
    serializer_class = SecurityEventSerializer
    filterset_class = SecurityEventFilter


class AutochargeProfileViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    """How each vendor's stations turn Autocharge on (product knowledge, the same for every
    company: staff read it, superusers change it). Its settings are their own resource."""

    queryset = AutochargeProfile.objects.prefetch_related("settings")
    serializer_class = AutochargeProfileSerializer
    filterset_fields = ["vendor"]

    def delete_through(self, instance):
        autocharge_profile_delete(profile=instance)


class AutochargeSettingViewSet(
    CompanyScopedViewSetMixin, ChangeHistoryViewSetMixin, viewsets.ModelViewSet
):
    """One configuration key (OCPP 1.6) or device-model component and variable (OCPP 2.0.1)
    that a profile sets."""

    queryset = AutochargeSetting.objects.all()
    serializer_class = AutochargeSettingSerializer
    filterset_fields = ["profile"]


# --- The unknown-vehicle inbox (badges' model; enrolling it meets stations) -----------------


class UnknownVehicleFilter(django_filters.FilterSet):
    station = django_filters.ModelChoiceFilter(
        field_name="sightings__station", queryset=Station.objects.all(), distinct=True
    )

    class Meta:
        model = UnknownVehicle
        fields = ["status", "company", "station"]


def unknown_vehicles_with_sightings():
    """Inbox entries with what their sightings tell, in two queries per page whatever its length
    or the entries' attempts: the latest sighting per station, the newest logged ones. An
    entry's sightings are all at its company's stations (``_record_sighting``)."""
    sightings = VehicleSighting.objects.all()
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

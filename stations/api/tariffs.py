"""``/api/v1/tariffs/`` (written through ``stations.tariffs``) and
``/api/v1/personal-use-statements/``: a vehicle's personal charging over a period, with costs."""

from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from fleet.models import Vehicle
from stations import tariffs
from stations.models import ChargingSession, Tariff
from supervision.api import (
    CompanyScopedSerializerMixin,
    CompanyScopedViewSetMixin,
    DeletedThroughServiceMixin,
    ModelValidationMixin,
    WrittenThroughServiceSerializerMixin,
    action_permission,
)
from supervision.history_api import ChangeHistoryViewSetMixin

# As the portal's report: the calendar's ends would overflow the time-zone arithmetic.
PERIOD_LIMITS = [MinValueValidator(date(2000, 1, 1)), MaxValueValidator(date(2999, 12, 31))]


class TariffSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    scope = serializers.CharField(read_only=True, help_text=_("company, group or station"))

    class Meta:
        model = Tariff
        fields = [
            "id",
            "company",
            "name",
            "scope",
            "group",
            "station",
            "price_per_kwh",
            "session_fee",
            "currency",
            "valid_from",
            "valid_until",
            "created_at",
        ]

    def save_through(self, instance, many_to_many):
        return tariffs.tariff_save(tariff=instance)


class TariffViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    """Tariffs: a price per kWh and a fee per session over a validity period, for a company,
    one of its station groups or one station (the most specific valid one prices a session
    when it stops). Changing or deleting a tariff never changes the cost of past sessions."""

    queryset = Tariff.objects.select_related("company")
    serializer_class = TariffSerializer
    filterset_fields = ["company", "group", "station", "currency"]

    def delete_through(self, instance):
        tariffs.tariff_delete(tariff=instance)


class StatementQuerySerializer(serializers.Serializer):
    vehicle = serializers.IntegerField()
    start = serializers.DateField(validators=PERIOD_LIMITS)
    end = serializers.DateField(validators=PERIOD_LIMITS)

    def validate(self, attrs):
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError(_("The period must start before it ends."))
        return attrs


class StatementSessionSerializer(serializers.ModelSerializer):
    station = serializers.CharField(source="station.charge_point_id")

    class Meta:
        model = ChargingSession
        fields = [
            "transaction_id",
            "station",
            "started_at",
            "stopped_at",
            "energy_wh",
            "cost",
            "cost_currency",
        ]


class StatementSerializer(serializers.Serializer):
    vehicle = serializers.IntegerField(source="vehicle.pk")
    license_plate = serializers.CharField(source="vehicle.license_plate")
    start = serializers.DateField()
    end = serializers.DateField()
    sessions = StatementSessionSerializer(many=True)
    energy_wh = serializers.IntegerField()
    costs = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2),
        help_text=_("The total cost per currency."),
    )
    unpriced = serializers.IntegerField(help_text=_("Sessions without a cost."))


class PersonalUseStatementViewSet(CompanyScopedViewSetMixin, viewsets.GenericViewSet):
    """A vehicle's personal-use statement: its accepted sessions with personal usage started
    from ``start`` to ``end`` (both included), their energy and cost, and the totals; to charge
    back or reimburse personal charging. Needs the view permission on sessions."""

    queryset = Vehicle.objects.select_related("company")  # the vehicles the user sees
    serializer_class = StatementSerializer
    filter_backends = []  # the query's fields are the statement's, not filters
    permission_classes = [action_permission("stations.view_chargingsession")]

    @extend_schema(
        parameters=[
            OpenApiParameter("vehicle", int, required=True),
            OpenApiParameter("start", date, required=True),
            OpenApiParameter("end", date, required=True),
        ],
        responses=StatementSerializer,
    )
    def list(self, request):
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data
        vehicle = get_object_or_404(self.get_queryset(), pk=period["vehicle"])
        statement = tariffs.personal_use_statement(
            user=request.user, vehicle=vehicle, start=period["start"], end=period["end"]
        )
        return Response(StatementSerializer(statement).data)

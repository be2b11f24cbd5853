from rest_framework import viewsets

from fleet.api.serializers import AuthorizationGroupSerializer, CompanySerializer, VehicleSerializer
from fleet.models import AuthorizationGroup, Company, Vehicle
from supervision.api import CompanyScopedViewSetMixin, ProtectedDestroyMixin
from supervision.history_api import ChangeHistoryViewSetMixin


class CompanyViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ProtectedDestroyMixin,
    viewsets.ModelViewSet,
):
    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    filterset_fields = ["name"]


class VehicleViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ProtectedDestroyMixin,
    viewsets.ModelViewSet,
):
    queryset = Vehicle.objects.all()
    serializer_class = VehicleSerializer
    filterset_fields = ["company", "license_plate", "active"]


class AuthorizationGroupViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ProtectedDestroyMixin,
    viewsets.ModelViewSet,
):
    queryset = AuthorizationGroup.objects.prefetch_related("stations")
    serializer_class = AuthorizationGroupSerializer
    filterset_fields = ["company", "stations"]

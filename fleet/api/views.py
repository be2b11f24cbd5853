from rest_framework import viewsets

from fleet import services
from fleet.api.serializers import AuthorizationGroupSerializer, CompanySerializer, VehicleSerializer
from fleet.imports import VehicleImportResource
from fleet.models import AuthorizationGroup, Company, Vehicle
from supervision.api import (
    CompanyScopedViewSetMixin,
    DeletedThroughServiceMixin,
    ProtectedDestroyMixin,
)
from supervision.archiving_api import ArchiveInsteadOfDestroyMixin
from supervision.history_api import ChangeHistoryViewSetMixin
from supervision.imports_api import ImportViewSetMixin


class CompanyViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ArchiveInsteadOfDestroyMixin,
    ProtectedDestroyMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    filterset_fields = ["name"]

    def delete_through(self, instance):
        services.company_delete(company=instance)


class VehicleViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ImportViewSetMixin,
    ArchiveInsteadOfDestroyMixin,
    ProtectedDestroyMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    queryset = Vehicle.objects.all()
    serializer_class = VehicleSerializer
    filterset_fields = ["company", "license_plate", "active"]
    import_resource_class = VehicleImportResource

    def delete_through(self, instance):
        services.vehicle_delete(vehicle=instance)


class AuthorizationGroupViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ProtectedDestroyMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    queryset = AuthorizationGroup.objects.prefetch_related("stations")
    serializer_class = AuthorizationGroupSerializer
    filterset_fields = ["company", "stations"]

    def delete_through(self, instance):
        services.group_delete(group=instance)

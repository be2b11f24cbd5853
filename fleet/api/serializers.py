from rest_framework import serializers

from fleet import services
from fleet.models import AuthorizationGroup, Company, Vehicle
from supervision.api import (
    CompanyScopedSerializerMixin,
    ModelValidationMixin,
    WrittenThroughServiceSerializerMixin,
)


class CompanySerializer(
    WrittenThroughServiceSerializerMixin, ModelValidationMixin, serializers.ModelSerializer
):
    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "address",
            "contact_email",
            "phone",
            "archived_at",
            "created_at",
        ]

    def save_through(self, instance, many_to_many):
        return services.company_save(company=instance)


class VehicleSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    class Meta:
        model = Vehicle
        fields = [
            "id",
            "company",
            "license_plate",
            "make",
            "model",
            "vin",
            "description",
            "charging_priority",
            "active",
            "archived_at",
            "created_at",
        ]

    def save_through(self, instance, many_to_many):
        return services.vehicle_save(vehicle=instance)


class AuthorizationGroupSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    class Meta:
        model = AuthorizationGroup
        fields = ["id", "name", "company", "stations", "description"]

    def save_through(self, instance, many_to_many):
        return services.group_save(group=instance, stations=many_to_many.get("stations"))

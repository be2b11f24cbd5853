from rest_framework import serializers

from fleet.models import AuthorizationGroup, Company, Vehicle
from supervision.api import CompanyScopedSerializerMixin, ModelValidationMixin


class CompanySerializer(ModelValidationMixin, serializers.ModelSerializer):
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


class VehicleSerializer(
    CompanyScopedSerializerMixin, ModelValidationMixin, serializers.ModelSerializer
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
            "active",
            "archived_at",
            "created_at",
        ]


class AuthorizationGroupSerializer(
    CompanyScopedSerializerMixin, ModelValidationMixin, serializers.ModelSerializer
):
    class Meta:
        model = AuthorizationGroup
        fields = ["id", "name", "company", "stations", "description"]
